// IREE 3.13 (llvm-cpu): returns [-1, -1], not [-3, -3]: the reduction of a unary op of a
// broadcast constant is dropped. iree-compile --iree-hal-target-device=local
// --iree-hal-local-target-device-backends=llvm-cpu splat_reduce.mlir -o a.vmfb &&
// iree-run-module --module=a.vmfb --function=main --input=2x3xf32=1
func.func @main(%arg0: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = stablehlo.constant dense<1.0> : tensor<f32>
  %1 = stablehlo.broadcast_in_dim %0, dims = [] : (tensor<f32>) -> tensor<2x3xf32>
  %2 = stablehlo.negate %1 : tensor<2x3xf32>
  %3 = stablehlo.constant dense<0.0> : tensor<f32>
  %4 = stablehlo.reduce(%2 init: %3) applies stablehlo.add across dimensions = [1] : (tensor<2x3xf32>, tensor<f32>) -> tensor<2xf32>
  return %4 : tensor<2xf32>
}
