// IREE 3.13 (llvm-cpu): "'func.func' op exceeded stack allocation limit of 262144 bytes
// for function. Got 4000000 bytes". The predicate, evaluated once before the loop on the
// initial carry (zeros, a constant), folds the compare, and the broadcast of -lam stays a
// dead 1e6-float result of that reduction dispatch, placed on the stack. With the while's
// operands through a stablehlo.optimization_barrier (pyjax's lowering) it compiles.
// iree-compile --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu
// --iree-llvmcpu-stack-allocation-limit=262144 while_const_carry_stack.mlir -o a.vmfb
func.func @main(%x: tensor<f32>, %lam: tensor<f32>) -> tensor<1000000xf32> {
  %0 = stablehlo.constant dense<0.0> : tensor<f32>
  %1 = stablehlo.broadcast_in_dim %0, dims = [] : (tensor<f32>) -> tensor<1000000xf32>
  %2:3 = stablehlo.while(%a = %lam, %b = %x, %c = %1) : tensor<f32>, tensor<f32>, tensor<1000000xf32>
  cond {
    %3 = stablehlo.negate %a : tensor<f32>
    %4 = stablehlo.broadcast_in_dim %3, dims = [] : (tensor<f32>) -> tensor<1000000xf32>
    %5 = stablehlo.compare GT, %c, %4, FLOAT : (tensor<1000000xf32>, tensor<1000000xf32>) -> tensor<1000000xi1>
    %6 = stablehlo.constant dense<false> : tensor<i1>
    %7 = stablehlo.reduce(%5 init: %6) applies stablehlo.or across dimensions = [0] : (tensor<1000000xi1>, tensor<i1>) -> tensor<i1>
    stablehlo.return %7 : tensor<i1>
  } do {
    %8 = stablehlo.broadcast_in_dim %b, dims = [] : (tensor<f32>) -> tensor<1000000xf32>
    %9 = stablehlo.subtract %c, %8 : tensor<1000000xf32>
    stablehlo.return %a, %b, %9 : tensor<f32>, tensor<f32>, tensor<1000000xf32>
  }
  return %2#2 : tensor<1000000xf32>
}
