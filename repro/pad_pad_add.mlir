// IREE fails to compile: two pads of values that share a producer, added.
// error: 'linalg.generic' op write affecting operations on global resources are
// restricted to workgroup distributed contexts.
// (the gradient of sum((x[1:] - x[:-1]**2)**2): slice transposes are pads.)
func.func public @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.slice %arg0 [1:4] : (tensor<4xf32>) -> tensor<3xf32>
  %1 = stablehlo.multiply %0, %0 : tensor<3xf32>
  %2 = stablehlo.negate %1 : tensor<3xf32>
  %3 = stablehlo.multiply %2, %0 : tensor<3xf32>
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %4 = stablehlo.pad %3, %z, low = [0], high = [1], interior = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<4xf32>
  %5 = stablehlo.pad %1, %z, low = [1], high = [0], interior = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<4xf32>
  %6 = stablehlo.add %4, %5 : tensor<4xf32>
  return %6 : tensor<4xf32>
}
