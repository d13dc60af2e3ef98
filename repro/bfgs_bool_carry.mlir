module @jit_bfgs attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3xf32>) -> (tensor<f32>, tensor<i32>) {
    %0 = "stablehlo.constant"() {value = dense<"0x000040400000803F000000000000803F000000400000003F000000000000003F0000803F"> : tensor<3x3xf32>} : () -> tensor<3x3xf32>
    %1 = "stablehlo.constant"() {value = dense<"0x0000803F000000C00000003F"> : tensor<3xf32>} : () -> tensor<3xf32>
    %2 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
    %3 = "stablehlo.broadcast_in_dim"(%2) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
    %4 = "stablehlo.multiply"(%3, %arg0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %5 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %6 = "stablehlo.dot_general"(%0, %arg0) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<3x3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %7 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %8 = "stablehlo.dot_general"(%4, %6) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
    %9 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %10 = "stablehlo.dot_general"(%1, %arg0) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
    %11 = "stablehlo.subtract"(%8, %10) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %12 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
    %13 = "stablehlo.negate"(%12) : (tensor<f32>) -> tensor<f32>
    %14 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %15 = "stablehlo.dot_general"(%13, %1) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
    %16 = "stablehlo.transpose"(%15) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
    %17 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
    %18 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %19 = "stablehlo.dot_general"(%17, %4) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
    %20 = "stablehlo.transpose"(%19) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
    %21 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
    %22 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %23 = "stablehlo.dot_general"(%21, %6) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
    %24 = "stablehlo.transpose"(%23) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
    %25 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %26 = "stablehlo.dot_general"(%20, %0) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3x3xf32>) -> tensor<3xf32>
    %27 = "stablehlo.transpose"(%26) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
    %28 = "stablehlo.add"(%16, %27) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %29 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
    %30 = "stablehlo.broadcast_in_dim"(%29) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
    %31 = "stablehlo.multiply"(%30, %24) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %32 = "stablehlo.add"(%28, %31) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %33 = "stablehlo.abs"(%32) : (tensor<3xf32>) -> tensor<3xf32>
    %34 = "stablehlo.constant"() {value = dense<"0x000080FF"> : tensor<f32>} : () -> tensor<f32>
    %38 = "stablehlo.reduce"(%33, %34) ({
    ^bb0(%r35: tensor<f32>, %r36: tensor<f32>):
      %37 = "stablehlo.maximum"(%r35, %r36) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%37) : (tensor<f32>) -> ()
    }) {dimensions = array<i64: 0>} : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
    %39 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %40 = "stablehlo.maximum"(%38, %39) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %41 = "stablehlo.constant"() {value = dense<"0xACC52737"> : tensor<f32>} : () -> tensor<f32>
    %42 = "stablehlo.compare"(%40, %41) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %43 = "stablehlo.iota"() {iota_dimension = 0 : i64} : () -> tensor<3x3xi32>
    %44 = "stablehlo.iota"() {iota_dimension = 1 : i64} : () -> tensor<3x3xi32>
    %45 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
    %46 = "stablehlo.broadcast_in_dim"(%45) {broadcast_dimensions = array<i64>} : (tensor<i32>) -> tensor<3x3xi32>
    %47 = "stablehlo.add"(%43, %46) : (tensor<3x3xi32>, tensor<3x3xi32>) -> tensor<3x3xi32>
    %48 = "stablehlo.compare"(%47, %44) {comparison_direction = #stablehlo<comparison_direction EQ>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<3x3xi32>, tensor<3x3xi32>) -> tensor<3x3xi1>
    %49 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
    %50 = "stablehlo.broadcast_in_dim"(%49) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3x3xf32>
    %51 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %52 = "stablehlo.broadcast_in_dim"(%51) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3x3xf32>
    %53 = "stablehlo.select"(%48, %50, %52) : (tensor<3x3xi1>, tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
    %54 = "stablehlo.multiply"(%32, %32) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %55 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
    %59 = "stablehlo.reduce"(%54, %55) ({
    ^bb0(%r56: tensor<f32>, %r57: tensor<f32>):
      %58 = "stablehlo.add"(%r56, %r57) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%58) : (tensor<f32>) -> ()
    }) {dimensions = array<i64: 0>} : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
    %60 = "stablehlo.sqrt"(%59) : (tensor<f32>) -> tensor<f32>
    %61 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
    %62 = "stablehlo.divide"(%60, %61) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %63 = "stablehlo.add"(%11, %62) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %64 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
    %65 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
    %846:8 = "stablehlo.while"(%53, %42, %11, %64, %32, %65, %63, %arg0) ({
    ^bb0(%r66: tensor<3x3xf32>, %r67: tensor<i1>, %r68: tensor<f32>, %r69: tensor<i1>, %r70: tensor<3xf32>, %r71: tensor<i32>, %r72: tensor<f32>, %r73: tensor<3xf32>):
      %74 = "stablehlo.not"(%r67) : (tensor<i1>) -> tensor<i1>
      %75 = "stablehlo.constant"() {value = dense<"0x58020000"> : tensor<i32>} : () -> tensor<i32>
      %76 = "stablehlo.compare"(%r71, %75) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %77 = "stablehlo.and"(%74, %76) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %78 = "stablehlo.not"(%r69) : (tensor<i1>) -> tensor<i1>
      %79 = "stablehlo.and"(%77, %78) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      "stablehlo.return"(%79) : (tensor<i1>) -> ()
    }, {
    ^bb0(%r80: tensor<3x3xf32>, %r81: tensor<i1>, %r82: tensor<f32>, %r83: tensor<i1>, %r84: tensor<3xf32>, %r85: tensor<i32>, %r86: tensor<f32>, %r87: tensor<3xf32>):
      %88 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %89 = "stablehlo.dot_general"(%r80, %r84) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<3x3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %90 = "stablehlo.negate"(%89) : (tensor<3xf32>) -> tensor<3xf32>
      %91 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %92 = "stablehlo.dot_general"(%r84, %90) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
      %93 = "stablehlo.subtract"(%r82, %r86) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %94 = "stablehlo.constant"() {value = dense<"0xAE470140"> : tensor<f32>} : () -> tensor<f32>
      %95 = "stablehlo.multiply"(%94, %93) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %96 = "stablehlo.divide"(%95, %92) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %97 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
      %98 = "stablehlo.compare"(%96, %97) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %99 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
      %100 = "stablehlo.select"(%98, %99, %96) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
      %101 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
      %102 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
      %103 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
      %104 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %105 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
      %106 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
      %107 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %759:18 = "stablehlo.while"(%100, %90, %r87, %92, %r82, %r84, %101, %102, %103, %104, %r82, %92, %105, %106, %107, %r82, %92, %r84) ({
      ^bb0(%r108: tensor<f32>, %r109: tensor<3xf32>, %r110: tensor<3xf32>, %r111: tensor<f32>, %r112: tensor<f32>, %r113: tensor<3xf32>, %r114: tensor<i1>, %r115: tensor<i1>, %r116: tensor<i32>, %r117: tensor<f32>, %r118: tensor<f32>, %r119: tensor<f32>, %r120: tensor<i32>, %r121: tensor<i32>, %r122: tensor<f32>, %r123: tensor<f32>, %r124: tensor<f32>, %r125: tensor<3xf32>):
        %126 = "stablehlo.not"(%r114) : (tensor<i1>) -> tensor<i1>
        %127 = "stablehlo.constant"() {value = dense<"0x0A000000"> : tensor<i32>} : () -> tensor<i32>
        %128 = "stablehlo.compare"(%r116, %127) {comparison_direction = #stablehlo<comparison_direction LE>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
        %129 = "stablehlo.and"(%126, %128) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %130 = "stablehlo.not"(%r115) : (tensor<i1>) -> tensor<i1>
        %131 = "stablehlo.and"(%129, %130) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        "stablehlo.return"(%131) : (tensor<i1>) -> ()
      }, {
      ^bb0(%r132: tensor<f32>, %r133: tensor<3xf32>, %r134: tensor<3xf32>, %r135: tensor<f32>, %r136: tensor<f32>, %r137: tensor<3xf32>, %r138: tensor<i1>, %r139: tensor<i1>, %r140: tensor<i32>, %r141: tensor<f32>, %r142: tensor<f32>, %r143: tensor<f32>, %r144: tensor<i32>, %r145: tensor<i32>, %r146: tensor<f32>, %r147: tensor<f32>, %r148: tensor<f32>, %r149: tensor<3xf32>):
        %150 = "stablehlo.constant"() {value = dense<"0x000040400000803F000000000000803F000000400000003F000000000000003F0000803F"> : tensor<3x3xf32>} : () -> tensor<3x3xf32>
        %151 = "stablehlo.constant"() {value = dense<"0x0000803F000000C00000003F"> : tensor<3xf32>} : () -> tensor<3xf32>
        %152 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
        %153 = "stablehlo.compare"(%r140, %152) {comparison_direction = #stablehlo<comparison_direction EQ>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
        %154 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
        %155 = "stablehlo.multiply"(%r141, %154) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %156 = "stablehlo.select"(%153, %r132, %155) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %157 = "stablehlo.broadcast_in_dim"(%156) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
        %158 = "stablehlo.multiply"(%157, %r133) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %159 = "stablehlo.add"(%r134, %158) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %160 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
        %161 = "stablehlo.broadcast_in_dim"(%160) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
        %162 = "stablehlo.multiply"(%161, %159) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %163 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %164 = "stablehlo.dot_general"(%150, %159) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<3x3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %165 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %166 = "stablehlo.dot_general"(%162, %164) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
        %167 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %168 = "stablehlo.dot_general"(%151, %159) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
        %169 = "stablehlo.subtract"(%166, %168) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %170 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
        %171 = "stablehlo.negate"(%170) : (tensor<f32>) -> tensor<f32>
        %172 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %173 = "stablehlo.dot_general"(%171, %151) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
        %174 = "stablehlo.transpose"(%173) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
        %175 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
        %176 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %177 = "stablehlo.dot_general"(%175, %162) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
        %178 = "stablehlo.transpose"(%177) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
        %179 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
        %180 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %181 = "stablehlo.dot_general"(%179, %164) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
        %182 = "stablehlo.transpose"(%181) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
        %183 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %184 = "stablehlo.dot_general"(%178, %150) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3x3xf32>) -> tensor<3xf32>
        %185 = "stablehlo.transpose"(%184) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
        %186 = "stablehlo.add"(%174, %185) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %187 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
        %188 = "stablehlo.broadcast_in_dim"(%187) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
        %189 = "stablehlo.multiply"(%188, %182) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %190 = "stablehlo.add"(%186, %189) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %191 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %192 = "stablehlo.dot_general"(%190, %r133) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
        %193 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
        %194 = "stablehlo.add"(%r144, %193) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        %195 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
        %196 = "stablehlo.add"(%r145, %195) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        %197 = "stablehlo.constant"() {value = dense<"0x17B7D138"> : tensor<f32>} : () -> tensor<f32>
        %198 = "stablehlo.multiply"(%197, %156) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %199 = "stablehlo.multiply"(%198, %r135) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %200 = "stablehlo.add"(%r136, %199) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %201 = "stablehlo.compare"(%169, %200) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
        %202 = "stablehlo.compare"(%169, %r142) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
        %203 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
        %204 = "stablehlo.compare"(%r140, %203) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
        %205 = "stablehlo.and"(%202, %204) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %206 = "stablehlo.or"(%201, %205) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %207 = "stablehlo.abs"(%192) : (tensor<f32>) -> tensor<f32>
        %208 = "stablehlo.constant"() {value = dense<"0x666666BF"> : tensor<f32>} : () -> tensor<f32>
        %209 = "stablehlo.multiply"(%208, %r135) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %210 = "stablehlo.compare"(%207, %209) {comparison_direction = #stablehlo<comparison_direction LE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
        %211 = "stablehlo.not"(%206) : (tensor<i1>) -> tensor<i1>
        %212 = "stablehlo.and"(%210, %211) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %213 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
        %214 = "stablehlo.compare"(%192, %213) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
        %215 = "stablehlo.not"(%206) : (tensor<i1>) -> tensor<i1>
        %216 = "stablehlo.and"(%214, %215) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %217 = "stablehlo.not"(%212) : (tensor<i1>) -> tensor<i1>
        %218 = "stablehlo.and"(%216, %217) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %219 = "stablehlo.not"(%206) : (tensor<i1>) -> tensor<i1>
        %220 = "stablehlo.add"(%r141, %156) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %221 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
        %222 = "stablehlo.divide"(%220, %221) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %223 = "stablehlo.add"(%r142, %169) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %224 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
        %225 = "stablehlo.divide"(%223, %224) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %226 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
        %227 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
        %228 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
        %229 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
        %230 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
        %231 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
        %474:22 = "stablehlo.while"(%219, %r133, %r134, %r135, %r136, %226, %227, %228, %r141, %r142, %r143, %156, %169, %192, %222, %225, %229, %r142, %r143, %r137, %230, %231) ({
        ^bb0(%r232: tensor<i1>, %r233: tensor<3xf32>, %r234: tensor<3xf32>, %r235: tensor<f32>, %r236: tensor<f32>, %r237: tensor<i1>, %r238: tensor<i1>, %r239: tensor<i32>, %r240: tensor<f32>, %r241: tensor<f32>, %r242: tensor<f32>, %r243: tensor<f32>, %r244: tensor<f32>, %r245: tensor<f32>, %r246: tensor<f32>, %r247: tensor<f32>, %r248: tensor<f32>, %r249: tensor<f32>, %r250: tensor<f32>, %r251: tensor<3xf32>, %r252: tensor<i32>, %r253: tensor<i32>):
          %254 = "stablehlo.not"(%r237) : (tensor<i1>) -> tensor<i1>
          %255 = "stablehlo.not"(%r232) : (tensor<i1>) -> tensor<i1>
          %256 = "stablehlo.and"(%254, %255) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %257 = "stablehlo.not"(%r238) : (tensor<i1>) -> tensor<i1>
          %258 = "stablehlo.and"(%256, %257) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          "stablehlo.return"(%258) : (tensor<i1>) -> ()
        }, {
        ^bb0(%r259: tensor<i1>, %r260: tensor<3xf32>, %r261: tensor<3xf32>, %r262: tensor<f32>, %r263: tensor<f32>, %r264: tensor<i1>, %r265: tensor<i1>, %r266: tensor<i32>, %r267: tensor<f32>, %r268: tensor<f32>, %r269: tensor<f32>, %r270: tensor<f32>, %r271: tensor<f32>, %r272: tensor<f32>, %r273: tensor<f32>, %r274: tensor<f32>, %r275: tensor<f32>, %r276: tensor<f32>, %r277: tensor<f32>, %r278: tensor<3xf32>, %r279: tensor<i32>, %r280: tensor<i32>):
          %281 = "stablehlo.constant"() {value = dense<"0x000040400000803F000000000000803F000000400000003F000000000000003F0000803F"> : tensor<3x3xf32>} : () -> tensor<3x3xf32>
          %282 = "stablehlo.constant"() {value = dense<"0x0000803F000000C00000003F"> : tensor<3xf32>} : () -> tensor<3xf32>
          %283 = "stablehlo.subtract"(%r270, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %284 = "stablehlo.minimum"(%r270, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %285 = "stablehlo.maximum"(%r270, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %286 = "stablehlo.constant"() {value = dense<"0xCDCC4C3E"> : tensor<f32>} : () -> tensor<f32>
          %287 = "stablehlo.multiply"(%286, %283) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %288 = "stablehlo.constant"() {value = dense<"0xCDCCCC3D"> : tensor<f32>} : () -> tensor<f32>
          %289 = "stablehlo.multiply"(%288, %283) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %290 = "stablehlo.constant"() {value = dense<"0x01"> : tensor<i1>} : () -> tensor<i1>
          %291 = "stablehlo.constant"() {value = dense<"0xFFE6DB2E"> : tensor<f32>} : () -> tensor<f32>
          %292 = "stablehlo.constant"() {value = dense<"0xACC52737"> : tensor<f32>} : () -> tensor<f32>
          %293 = "stablehlo.select"(%290, %292, %291) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %294 = "stablehlo.compare"(%283, %293) {comparison_direction = #stablehlo<comparison_direction LE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %295 = "stablehlo.or"(%r265, %294) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %296 = "stablehlo.subtract"(%r270, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %297 = "stablehlo.subtract"(%r273, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %298 = "stablehlo.multiply"(%296, %297) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %299 = "stablehlo.multiply"(%298, %298) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %300 = "stablehlo.subtract"(%296, %297) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %301 = "stablehlo.multiply"(%299, %300) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %302 = "stablehlo.multiply"(%297, %297) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %303 = "stablehlo.multiply"(%296, %296) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %304 = "stablehlo.negate"(%303) : (tensor<f32>) -> tensor<f32>
          %305 = "stablehlo.multiply"(%297, %297) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %306 = "stablehlo.multiply"(%297, %305) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %307 = "stablehlo.negate"(%306) : (tensor<f32>) -> tensor<f32>
          %308 = "stablehlo.multiply"(%296, %296) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %309 = "stablehlo.multiply"(%296, %308) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %310 = "stablehlo.broadcast_in_dim"(%302) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %311 = "stablehlo.broadcast_in_dim"(%304) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %312 = "stablehlo.concatenate"(%310, %311) {dimension = 0 : i64} : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
          %313 = "stablehlo.broadcast_in_dim"(%307) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %314 = "stablehlo.broadcast_in_dim"(%309) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %315 = "stablehlo.concatenate"(%313, %314) {dimension = 0 : i64} : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
          %316 = "stablehlo.broadcast_in_dim"(%312) {broadcast_dimensions = array<i64: 1>} : (tensor<2xf32>) -> tensor<1x2xf32>
          %317 = "stablehlo.broadcast_in_dim"(%315) {broadcast_dimensions = array<i64: 1>} : (tensor<2xf32>) -> tensor<1x2xf32>
          %318 = "stablehlo.concatenate"(%316, %317) {dimension = 0 : i64} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<2x2xf32>
          %319 = "stablehlo.subtract"(%r271, %r268) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %320 = "stablehlo.multiply"(%r269, %296) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %321 = "stablehlo.subtract"(%319, %320) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %322 = "stablehlo.subtract"(%r274, %r268) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %323 = "stablehlo.multiply"(%r269, %297) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %324 = "stablehlo.subtract"(%322, %323) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %325 = "stablehlo.broadcast_in_dim"(%321) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %326 = "stablehlo.broadcast_in_dim"(%324) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %327 = "stablehlo.concatenate"(%325, %326) {dimension = 0 : i64} : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
          %328 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %329 = "stablehlo.dot_general"(%318, %327) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2xf32>
          %330 = "stablehlo.broadcast_in_dim"(%301) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<2xf32>
          %331 = "stablehlo.divide"(%329, %330) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
          %332 = "stablehlo.slice"(%331) {start_indices = array<i64: 0>, limit_indices = array<i64: 1>, strides = array<i64: 1>} : (tensor<2xf32>) -> tensor<1xf32>
          %333 = "stablehlo.reshape"(%332) : (tensor<1xf32>) -> tensor<f32>
          %334 = "stablehlo.slice"(%331) {start_indices = array<i64: 1>, limit_indices = array<i64: 2>, strides = array<i64: 1>} : (tensor<2xf32>) -> tensor<1xf32>
          %335 = "stablehlo.reshape"(%334) : (tensor<1xf32>) -> tensor<f32>
          %336 = "stablehlo.multiply"(%335, %335) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %337 = "stablehlo.constant"() {value = dense<"0x00004040"> : tensor<f32>} : () -> tensor<f32>
          %338 = "stablehlo.multiply"(%337, %333) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %339 = "stablehlo.multiply"(%338, %r269) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %340 = "stablehlo.subtract"(%336, %339) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %341 = "stablehlo.negate"(%335) : (tensor<f32>) -> tensor<f32>
          %342 = "stablehlo.sqrt"(%340) : (tensor<f32>) -> tensor<f32>
          %343 = "stablehlo.add"(%341, %342) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %344 = "stablehlo.constant"() {value = dense<"0x00004040"> : tensor<f32>} : () -> tensor<f32>
          %345 = "stablehlo.multiply"(%344, %333) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %346 = "stablehlo.divide"(%343, %345) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %347 = "stablehlo.add"(%r267, %346) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %348 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
          %349 = "stablehlo.compare"(%r266, %348) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
          %350 = "stablehlo.add"(%284, %287) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %351 = "stablehlo.compare"(%347, %350) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %352 = "stablehlo.and"(%349, %351) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %353 = "stablehlo.subtract"(%285, %287) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %354 = "stablehlo.compare"(%347, %353) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %355 = "stablehlo.and"(%352, %354) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %356 = "stablehlo.subtract"(%r270, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %357 = "stablehlo.subtract"(%r271, %r268) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %358 = "stablehlo.multiply"(%r269, %356) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %359 = "stablehlo.subtract"(%357, %358) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %360 = "stablehlo.multiply"(%356, %356) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %361 = "stablehlo.divide"(%359, %360) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %362 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
          %363 = "stablehlo.multiply"(%362, %361) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %364 = "stablehlo.divide"(%r269, %363) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %365 = "stablehlo.subtract"(%r267, %364) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %366 = "stablehlo.not"(%355) : (tensor<i1>) -> tensor<i1>
          %367 = "stablehlo.add"(%284, %289) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %368 = "stablehlo.compare"(%365, %367) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %369 = "stablehlo.and"(%366, %368) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %370 = "stablehlo.subtract"(%285, %289) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %371 = "stablehlo.compare"(%365, %370) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %372 = "stablehlo.and"(%369, %371) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %373 = "stablehlo.add"(%r267, %r270) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %374 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
          %375 = "stablehlo.divide"(%373, %374) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %376 = "stablehlo.not"(%355) : (tensor<i1>) -> tensor<i1>
          %377 = "stablehlo.not"(%372) : (tensor<i1>) -> tensor<i1>
          %378 = "stablehlo.and"(%376, %377) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %379 = "stablehlo.select"(%355, %347, %r273) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %380 = "stablehlo.select"(%372, %365, %379) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %381 = "stablehlo.select"(%378, %375, %380) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %382 = "stablehlo.broadcast_in_dim"(%381) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
          %383 = "stablehlo.multiply"(%382, %r260) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %384 = "stablehlo.add"(%r261, %383) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %385 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
          %386 = "stablehlo.broadcast_in_dim"(%385) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
          %387 = "stablehlo.multiply"(%386, %384) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %388 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %389 = "stablehlo.dot_general"(%281, %384) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<3x3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %390 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %391 = "stablehlo.dot_general"(%387, %389) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
          %392 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %393 = "stablehlo.dot_general"(%282, %384) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
          %394 = "stablehlo.subtract"(%391, %393) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %395 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
          %396 = "stablehlo.negate"(%395) : (tensor<f32>) -> tensor<f32>
          %397 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %398 = "stablehlo.dot_general"(%396, %282) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
          %399 = "stablehlo.transpose"(%398) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %400 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
          %401 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %402 = "stablehlo.dot_general"(%400, %387) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
          %403 = "stablehlo.transpose"(%402) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %404 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
          %405 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %406 = "stablehlo.dot_general"(%404, %389) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
          %407 = "stablehlo.transpose"(%406) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %408 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %409 = "stablehlo.dot_general"(%403, %281) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3x3xf32>) -> tensor<3xf32>
          %410 = "stablehlo.transpose"(%409) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %411 = "stablehlo.add"(%399, %410) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %412 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
          %413 = "stablehlo.broadcast_in_dim"(%412) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
          %414 = "stablehlo.multiply"(%413, %407) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %415 = "stablehlo.add"(%411, %414) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %416 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %417 = "stablehlo.dot_general"(%415, %r260) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
          %418 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
          %419 = "stablehlo.add"(%r279, %418) : (tensor<i32>, tensor<i32>) -> tensor<i32>
          %420 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
          %421 = "stablehlo.add"(%r280, %420) : (tensor<i32>, tensor<i32>) -> tensor<i32>
          %422 = "stablehlo.constant"() {value = dense<"0x17B7D138"> : tensor<f32>} : () -> tensor<f32>
          %423 = "stablehlo.multiply"(%422, %381) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %424 = "stablehlo.multiply"(%423, %r262) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %425 = "stablehlo.add"(%r263, %424) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %426 = "stablehlo.compare"(%394, %425) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %427 = "stablehlo.compare"(%394, %r268) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %428 = "stablehlo.or"(%426, %427) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %429 = "stablehlo.abs"(%417) : (tensor<f32>) -> tensor<f32>
          %430 = "stablehlo.constant"() {value = dense<"0x666666BF"> : tensor<f32>} : () -> tensor<f32>
          %431 = "stablehlo.multiply"(%430, %r262) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %432 = "stablehlo.compare"(%429, %431) {comparison_direction = #stablehlo<comparison_direction LE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %433 = "stablehlo.not"(%428) : (tensor<i1>) -> tensor<i1>
          %434 = "stablehlo.and"(%432, %433) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %435 = "stablehlo.subtract"(%r270, %r267) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %436 = "stablehlo.multiply"(%417, %435) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %437 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %438 = "stablehlo.compare"(%436, %437) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %439 = "stablehlo.not"(%428) : (tensor<i1>) -> tensor<i1>
          %440 = "stablehlo.and"(%438, %439) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %441 = "stablehlo.not"(%434) : (tensor<i1>) -> tensor<i1>
          %442 = "stablehlo.and"(%440, %441) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %443 = "stablehlo.not"(%428) : (tensor<i1>) -> tensor<i1>
          %444 = "stablehlo.not"(%434) : (tensor<i1>) -> tensor<i1>
          %445 = "stablehlo.and"(%443, %444) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %446 = "stablehlo.select"(%428, %381, %r270) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %447 = "stablehlo.select"(%428, %394, %r271) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %448 = "stablehlo.select"(%428, %417, %r272) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %449 = "stablehlo.select"(%428, %r270, %r273) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %450 = "stablehlo.select"(%428, %r271, %r274) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %451 = "stablehlo.or"(%434, %r264) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %452 = "stablehlo.select"(%434, %381, %r275) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %453 = "stablehlo.select"(%434, %394, %r276) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %454 = "stablehlo.select"(%434, %417, %r277) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %455 = "stablehlo.broadcast_in_dim"(%434) {broadcast_dimensions = array<i64>} : (tensor<i1>) -> tensor<3xi1>
          %456 = "stablehlo.select"(%455, %415, %r278) : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %457 = "stablehlo.select"(%442, %r267, %446) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %458 = "stablehlo.select"(%442, %r268, %447) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %459 = "stablehlo.select"(%442, %r269, %448) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %460 = "stablehlo.select"(%442, %446, %449) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %461 = "stablehlo.select"(%442, %447, %450) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %462 = "stablehlo.not"(%442) : (tensor<i1>) -> tensor<i1>
          %463 = "stablehlo.and"(%445, %462) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %464 = "stablehlo.select"(%463, %r267, %460) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %465 = "stablehlo.select"(%463, %r268, %461) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %466 = "stablehlo.select"(%445, %381, %r267) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %467 = "stablehlo.select"(%445, %394, %r268) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %468 = "stablehlo.select"(%445, %417, %r269) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %469 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
          %470 = "stablehlo.add"(%r266, %469) : (tensor<i32>, tensor<i32>) -> tensor<i32>
          %471 = "stablehlo.constant"() {value = dense<"0x1E000000"> : tensor<i32>} : () -> tensor<i32>
          %472 = "stablehlo.compare"(%470, %471) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
          %473 = "stablehlo.or"(%295, %472) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          "stablehlo.return"(%r259, %r260, %r261, %r262, %r263, %451, %473, %470, %466, %467, %468, %457, %458, %459, %464, %465, %452, %453, %454, %456, %419, %421) : (tensor<i1>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i32>, tensor<i32>) -> ()
        }) : (tensor<i1>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i32>, tensor<i32>) -> (tensor<i1>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i32>, tensor<i32>)
        %475 = "stablehlo.add"(%194, %474#20) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        %476 = "stablehlo.add"(%196, %474#21) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        %477 = "stablehlo.not"(%218) : (tensor<i1>) -> tensor<i1>
        %478 = "stablehlo.add"(%156, %r141) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %479 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
        %480 = "stablehlo.divide"(%478, %479) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %481 = "stablehlo.add"(%169, %r142) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %482 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
        %483 = "stablehlo.divide"(%481, %482) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        %484 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
        %485 = "stablehlo.constant"() {value = dense<"0x00"> : tensor<i1>} : () -> tensor<i1>
        %486 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
        %487 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
        %488 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
        %489 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
        %732:22 = "stablehlo.while"(%477, %r133, %r134, %r135, %r136, %484, %485, %486, %156, %169, %192, %r141, %r142, %r143, %480, %483, %487, %169, %192, %r137, %488, %489) ({
        ^bb0(%r490: tensor<i1>, %r491: tensor<3xf32>, %r492: tensor<3xf32>, %r493: tensor<f32>, %r494: tensor<f32>, %r495: tensor<i1>, %r496: tensor<i1>, %r497: tensor<i32>, %r498: tensor<f32>, %r499: tensor<f32>, %r500: tensor<f32>, %r501: tensor<f32>, %r502: tensor<f32>, %r503: tensor<f32>, %r504: tensor<f32>, %r505: tensor<f32>, %r506: tensor<f32>, %r507: tensor<f32>, %r508: tensor<f32>, %r509: tensor<3xf32>, %r510: tensor<i32>, %r511: tensor<i32>):
          %512 = "stablehlo.not"(%r495) : (tensor<i1>) -> tensor<i1>
          %513 = "stablehlo.not"(%r490) : (tensor<i1>) -> tensor<i1>
          %514 = "stablehlo.and"(%512, %513) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %515 = "stablehlo.not"(%r496) : (tensor<i1>) -> tensor<i1>
          %516 = "stablehlo.and"(%514, %515) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          "stablehlo.return"(%516) : (tensor<i1>) -> ()
        }, {
        ^bb0(%r517: tensor<i1>, %r518: tensor<3xf32>, %r519: tensor<3xf32>, %r520: tensor<f32>, %r521: tensor<f32>, %r522: tensor<i1>, %r523: tensor<i1>, %r524: tensor<i32>, %r525: tensor<f32>, %r526: tensor<f32>, %r527: tensor<f32>, %r528: tensor<f32>, %r529: tensor<f32>, %r530: tensor<f32>, %r531: tensor<f32>, %r532: tensor<f32>, %r533: tensor<f32>, %r534: tensor<f32>, %r535: tensor<f32>, %r536: tensor<3xf32>, %r537: tensor<i32>, %r538: tensor<i32>):
          %539 = "stablehlo.constant"() {value = dense<"0x000040400000803F000000000000803F000000400000003F000000000000003F0000803F"> : tensor<3x3xf32>} : () -> tensor<3x3xf32>
          %540 = "stablehlo.constant"() {value = dense<"0x0000803F000000C00000003F"> : tensor<3xf32>} : () -> tensor<3xf32>
          %541 = "stablehlo.subtract"(%r528, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %542 = "stablehlo.minimum"(%r528, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %543 = "stablehlo.maximum"(%r528, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %544 = "stablehlo.constant"() {value = dense<"0xCDCC4C3E"> : tensor<f32>} : () -> tensor<f32>
          %545 = "stablehlo.multiply"(%544, %541) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %546 = "stablehlo.constant"() {value = dense<"0xCDCCCC3D"> : tensor<f32>} : () -> tensor<f32>
          %547 = "stablehlo.multiply"(%546, %541) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %548 = "stablehlo.constant"() {value = dense<"0x01"> : tensor<i1>} : () -> tensor<i1>
          %549 = "stablehlo.constant"() {value = dense<"0xFFE6DB2E"> : tensor<f32>} : () -> tensor<f32>
          %550 = "stablehlo.constant"() {value = dense<"0xACC52737"> : tensor<f32>} : () -> tensor<f32>
          %551 = "stablehlo.select"(%548, %550, %549) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %552 = "stablehlo.compare"(%541, %551) {comparison_direction = #stablehlo<comparison_direction LE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %553 = "stablehlo.or"(%r523, %552) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %554 = "stablehlo.subtract"(%r528, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %555 = "stablehlo.subtract"(%r531, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %556 = "stablehlo.multiply"(%554, %555) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %557 = "stablehlo.multiply"(%556, %556) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %558 = "stablehlo.subtract"(%554, %555) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %559 = "stablehlo.multiply"(%557, %558) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %560 = "stablehlo.multiply"(%555, %555) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %561 = "stablehlo.multiply"(%554, %554) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %562 = "stablehlo.negate"(%561) : (tensor<f32>) -> tensor<f32>
          %563 = "stablehlo.multiply"(%555, %555) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %564 = "stablehlo.multiply"(%555, %563) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %565 = "stablehlo.negate"(%564) : (tensor<f32>) -> tensor<f32>
          %566 = "stablehlo.multiply"(%554, %554) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %567 = "stablehlo.multiply"(%554, %566) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %568 = "stablehlo.broadcast_in_dim"(%560) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %569 = "stablehlo.broadcast_in_dim"(%562) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %570 = "stablehlo.concatenate"(%568, %569) {dimension = 0 : i64} : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
          %571 = "stablehlo.broadcast_in_dim"(%565) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %572 = "stablehlo.broadcast_in_dim"(%567) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %573 = "stablehlo.concatenate"(%571, %572) {dimension = 0 : i64} : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
          %574 = "stablehlo.broadcast_in_dim"(%570) {broadcast_dimensions = array<i64: 1>} : (tensor<2xf32>) -> tensor<1x2xf32>
          %575 = "stablehlo.broadcast_in_dim"(%573) {broadcast_dimensions = array<i64: 1>} : (tensor<2xf32>) -> tensor<1x2xf32>
          %576 = "stablehlo.concatenate"(%574, %575) {dimension = 0 : i64} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<2x2xf32>
          %577 = "stablehlo.subtract"(%r529, %r526) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %578 = "stablehlo.multiply"(%r527, %554) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %579 = "stablehlo.subtract"(%577, %578) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %580 = "stablehlo.subtract"(%r532, %r526) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %581 = "stablehlo.multiply"(%r527, %555) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %582 = "stablehlo.subtract"(%580, %581) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %583 = "stablehlo.broadcast_in_dim"(%579) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %584 = "stablehlo.broadcast_in_dim"(%582) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<1xf32>
          %585 = "stablehlo.concatenate"(%583, %584) {dimension = 0 : i64} : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
          %586 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %587 = "stablehlo.dot_general"(%576, %585) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2xf32>
          %588 = "stablehlo.broadcast_in_dim"(%559) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<2xf32>
          %589 = "stablehlo.divide"(%587, %588) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
          %590 = "stablehlo.slice"(%589) {start_indices = array<i64: 0>, limit_indices = array<i64: 1>, strides = array<i64: 1>} : (tensor<2xf32>) -> tensor<1xf32>
          %591 = "stablehlo.reshape"(%590) : (tensor<1xf32>) -> tensor<f32>
          %592 = "stablehlo.slice"(%589) {start_indices = array<i64: 1>, limit_indices = array<i64: 2>, strides = array<i64: 1>} : (tensor<2xf32>) -> tensor<1xf32>
          %593 = "stablehlo.reshape"(%592) : (tensor<1xf32>) -> tensor<f32>
          %594 = "stablehlo.multiply"(%593, %593) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %595 = "stablehlo.constant"() {value = dense<"0x00004040"> : tensor<f32>} : () -> tensor<f32>
          %596 = "stablehlo.multiply"(%595, %591) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %597 = "stablehlo.multiply"(%596, %r527) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %598 = "stablehlo.subtract"(%594, %597) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %599 = "stablehlo.negate"(%593) : (tensor<f32>) -> tensor<f32>
          %600 = "stablehlo.sqrt"(%598) : (tensor<f32>) -> tensor<f32>
          %601 = "stablehlo.add"(%599, %600) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %602 = "stablehlo.constant"() {value = dense<"0x00004040"> : tensor<f32>} : () -> tensor<f32>
          %603 = "stablehlo.multiply"(%602, %591) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %604 = "stablehlo.divide"(%601, %603) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %605 = "stablehlo.add"(%r525, %604) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %606 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
          %607 = "stablehlo.compare"(%r524, %606) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
          %608 = "stablehlo.add"(%542, %545) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %609 = "stablehlo.compare"(%605, %608) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %610 = "stablehlo.and"(%607, %609) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %611 = "stablehlo.subtract"(%543, %545) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %612 = "stablehlo.compare"(%605, %611) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %613 = "stablehlo.and"(%610, %612) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %614 = "stablehlo.subtract"(%r528, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %615 = "stablehlo.subtract"(%r529, %r526) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %616 = "stablehlo.multiply"(%r527, %614) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %617 = "stablehlo.subtract"(%615, %616) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %618 = "stablehlo.multiply"(%614, %614) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %619 = "stablehlo.divide"(%617, %618) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %620 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
          %621 = "stablehlo.multiply"(%620, %619) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %622 = "stablehlo.divide"(%r527, %621) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %623 = "stablehlo.subtract"(%r525, %622) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %624 = "stablehlo.not"(%613) : (tensor<i1>) -> tensor<i1>
          %625 = "stablehlo.add"(%542, %547) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %626 = "stablehlo.compare"(%623, %625) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %627 = "stablehlo.and"(%624, %626) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %628 = "stablehlo.subtract"(%543, %547) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %629 = "stablehlo.compare"(%623, %628) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %630 = "stablehlo.and"(%627, %629) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %631 = "stablehlo.add"(%r525, %r528) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %632 = "stablehlo.constant"() {value = dense<"0x00000040"> : tensor<f32>} : () -> tensor<f32>
          %633 = "stablehlo.divide"(%631, %632) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %634 = "stablehlo.not"(%613) : (tensor<i1>) -> tensor<i1>
          %635 = "stablehlo.not"(%630) : (tensor<i1>) -> tensor<i1>
          %636 = "stablehlo.and"(%634, %635) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %637 = "stablehlo.select"(%613, %605, %r531) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %638 = "stablehlo.select"(%630, %623, %637) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %639 = "stablehlo.select"(%636, %633, %638) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %640 = "stablehlo.broadcast_in_dim"(%639) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
          %641 = "stablehlo.multiply"(%640, %r518) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %642 = "stablehlo.add"(%r519, %641) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %643 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
          %644 = "stablehlo.broadcast_in_dim"(%643) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
          %645 = "stablehlo.multiply"(%644, %642) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %646 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %647 = "stablehlo.dot_general"(%539, %642) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<3x3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %648 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %649 = "stablehlo.dot_general"(%645, %647) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
          %650 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %651 = "stablehlo.dot_general"(%540, %642) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
          %652 = "stablehlo.subtract"(%649, %651) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %653 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
          %654 = "stablehlo.negate"(%653) : (tensor<f32>) -> tensor<f32>
          %655 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %656 = "stablehlo.dot_general"(%654, %540) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
          %657 = "stablehlo.transpose"(%656) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %658 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
          %659 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %660 = "stablehlo.dot_general"(%658, %645) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
          %661 = "stablehlo.transpose"(%660) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %662 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
          %663 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %664 = "stablehlo.dot_general"(%662, %647) {dot_dimension_numbers = #stablehlo.dot<>} : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
          %665 = "stablehlo.transpose"(%664) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %666 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %667 = "stablehlo.dot_general"(%661, %539) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3x3xf32>) -> tensor<3xf32>
          %668 = "stablehlo.transpose"(%667) {permutation = array<i64: 0>} : (tensor<3xf32>) -> tensor<3xf32>
          %669 = "stablehlo.add"(%657, %668) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %670 = "stablehlo.constant"() {value = dense<"0x0000003F"> : tensor<f32>} : () -> tensor<f32>
          %671 = "stablehlo.broadcast_in_dim"(%670) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
          %672 = "stablehlo.multiply"(%671, %665) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %673 = "stablehlo.add"(%669, %672) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %674 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %675 = "stablehlo.dot_general"(%673, %r518) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
          %676 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
          %677 = "stablehlo.add"(%r537, %676) : (tensor<i32>, tensor<i32>) -> tensor<i32>
          %678 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
          %679 = "stablehlo.add"(%r538, %678) : (tensor<i32>, tensor<i32>) -> tensor<i32>
          %680 = "stablehlo.constant"() {value = dense<"0x17B7D138"> : tensor<f32>} : () -> tensor<f32>
          %681 = "stablehlo.multiply"(%680, %639) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %682 = "stablehlo.multiply"(%681, %r520) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %683 = "stablehlo.add"(%r521, %682) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %684 = "stablehlo.compare"(%652, %683) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %685 = "stablehlo.compare"(%652, %r526) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %686 = "stablehlo.or"(%684, %685) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %687 = "stablehlo.abs"(%675) : (tensor<f32>) -> tensor<f32>
          %688 = "stablehlo.constant"() {value = dense<"0x666666BF"> : tensor<f32>} : () -> tensor<f32>
          %689 = "stablehlo.multiply"(%688, %r520) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %690 = "stablehlo.compare"(%687, %689) {comparison_direction = #stablehlo<comparison_direction LE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %691 = "stablehlo.not"(%686) : (tensor<i1>) -> tensor<i1>
          %692 = "stablehlo.and"(%690, %691) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %693 = "stablehlo.subtract"(%r528, %r525) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %694 = "stablehlo.multiply"(%675, %693) : (tensor<f32>, tensor<f32>) -> tensor<f32>
          %695 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
          %696 = "stablehlo.compare"(%694, %695) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
          %697 = "stablehlo.not"(%686) : (tensor<i1>) -> tensor<i1>
          %698 = "stablehlo.and"(%696, %697) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %699 = "stablehlo.not"(%692) : (tensor<i1>) -> tensor<i1>
          %700 = "stablehlo.and"(%698, %699) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %701 = "stablehlo.not"(%686) : (tensor<i1>) -> tensor<i1>
          %702 = "stablehlo.not"(%692) : (tensor<i1>) -> tensor<i1>
          %703 = "stablehlo.and"(%701, %702) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %704 = "stablehlo.select"(%686, %639, %r528) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %705 = "stablehlo.select"(%686, %652, %r529) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %706 = "stablehlo.select"(%686, %675, %r530) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %707 = "stablehlo.select"(%686, %r528, %r531) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %708 = "stablehlo.select"(%686, %r529, %r532) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %709 = "stablehlo.or"(%692, %r522) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %710 = "stablehlo.select"(%692, %639, %r533) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %711 = "stablehlo.select"(%692, %652, %r534) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %712 = "stablehlo.select"(%692, %675, %r535) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %713 = "stablehlo.broadcast_in_dim"(%692) {broadcast_dimensions = array<i64>} : (tensor<i1>) -> tensor<3xi1>
          %714 = "stablehlo.select"(%713, %673, %r536) : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          %715 = "stablehlo.select"(%700, %r525, %704) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %716 = "stablehlo.select"(%700, %r526, %705) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %717 = "stablehlo.select"(%700, %r527, %706) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %718 = "stablehlo.select"(%700, %704, %707) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %719 = "stablehlo.select"(%700, %705, %708) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %720 = "stablehlo.not"(%700) : (tensor<i1>) -> tensor<i1>
          %721 = "stablehlo.and"(%703, %720) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          %722 = "stablehlo.select"(%721, %r525, %718) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %723 = "stablehlo.select"(%721, %r526, %719) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %724 = "stablehlo.select"(%703, %639, %r525) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %725 = "stablehlo.select"(%703, %652, %r526) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %726 = "stablehlo.select"(%703, %675, %r527) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
          %727 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
          %728 = "stablehlo.add"(%r524, %727) : (tensor<i32>, tensor<i32>) -> tensor<i32>
          %729 = "stablehlo.constant"() {value = dense<"0x1E000000"> : tensor<i32>} : () -> tensor<i32>
          %730 = "stablehlo.compare"(%728, %729) {comparison_direction = #stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
          %731 = "stablehlo.or"(%553, %730) : (tensor<i1>, tensor<i1>) -> tensor<i1>
          "stablehlo.return"(%r517, %r518, %r519, %r520, %r521, %709, %731, %728, %724, %725, %726, %715, %716, %717, %722, %723, %710, %711, %712, %714, %677, %679) : (tensor<i1>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i32>, tensor<i32>) -> ()
        }) : (tensor<i1>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i32>, tensor<i32>) -> (tensor<i1>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i32>, tensor<i32>)
        %733 = "stablehlo.add"(%475, %732#20) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        %734 = "stablehlo.add"(%476, %732#21) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        %735 = "stablehlo.or"(%206, %r138) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %736 = "stablehlo.and"(%206, %474#6) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %737 = "stablehlo.or"(%736, %r139) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %738 = "stablehlo.select"(%206, %474#16, %r146) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %739 = "stablehlo.select"(%206, %474#17, %r147) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %740 = "stablehlo.select"(%206, %474#18, %r148) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %741 = "stablehlo.broadcast_in_dim"(%206) {broadcast_dimensions = array<i64>} : (tensor<i1>) -> tensor<3xi1>
        %742 = "stablehlo.select"(%741, %474#19, %r149) : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %743 = "stablehlo.or"(%212, %735) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %744 = "stablehlo.select"(%212, %156, %738) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %745 = "stablehlo.select"(%212, %169, %739) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %746 = "stablehlo.select"(%212, %192, %740) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %747 = "stablehlo.broadcast_in_dim"(%212) {broadcast_dimensions = array<i64>} : (tensor<i1>) -> tensor<3xi1>
        %748 = "stablehlo.select"(%747, %190, %742) : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %749 = "stablehlo.or"(%218, %743) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %750 = "stablehlo.and"(%218, %732#6) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %751 = "stablehlo.or"(%750, %737) : (tensor<i1>, tensor<i1>) -> tensor<i1>
        %752 = "stablehlo.select"(%218, %732#16, %744) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %753 = "stablehlo.select"(%218, %732#17, %745) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %754 = "stablehlo.select"(%218, %732#18, %746) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
        %755 = "stablehlo.broadcast_in_dim"(%218) {broadcast_dimensions = array<i64>} : (tensor<i1>) -> tensor<3xi1>
        %756 = "stablehlo.select"(%755, %732#19, %748) : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
        %757 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
        %758 = "stablehlo.add"(%r140, %757) : (tensor<i32>, tensor<i32>) -> tensor<i32>
        "stablehlo.return"(%r132, %r133, %r134, %r135, %r136, %r137, %749, %751, %758, %156, %169, %192, %733, %734, %752, %753, %754, %756) : (tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>) -> ()
      }) : (tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<i1>, tensor<i1>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>)
      %760 = "stablehlo.constant"() {value = dense<"0x0A000000"> : tensor<i32>} : () -> tensor<i32>
      %761 = "stablehlo.compare"(%759#8, %760) {comparison_direction = #stablehlo<comparison_direction GT>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %762 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
      %763 = "stablehlo.constant"() {value = dense<"0x03000000"> : tensor<i32>} : () -> tensor<i32>
      %764 = "stablehlo.select"(%761, %763, %762) : (tensor<i1>, tensor<i32>, tensor<i32>) -> tensor<i32>
      %765 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
      %766 = "stablehlo.select"(%759#7, %765, %764) : (tensor<i1>, tensor<i32>, tensor<i32>) -> tensor<i32>
      %767 = "stablehlo.abs"(%759#14) : (tensor<f32>) -> tensor<f32>
      %768 = "stablehlo.constant"() {value = dense<"0x77CC2B32"> : tensor<f32>} : () -> tensor<f32>
      %769 = "stablehlo.compare"(%767, %768) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %770 = "stablehlo.constant"() {value = dense<"0x01"> : tensor<i1>} : () -> tensor<i1>
      %771 = "stablehlo.and"(%770, %769) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %772 = "stablehlo.sign"(%759#14) : (tensor<f32>) -> tensor<f32>
      %773 = "stablehlo.constant"() {value = dense<"0x77CC2B32"> : tensor<f32>} : () -> tensor<f32>
      %774 = "stablehlo.multiply"(%772, %773) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %775 = "stablehlo.select"(%771, %774, %759#14) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
      %776 = "stablehlo.not"(%759#6) : (tensor<i1>) -> tensor<i1>
      %777 = "stablehlo.or"(%759#7, %776) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %778 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
      %779 = "stablehlo.subtract"(%759#8, %778) : (tensor<i32>, tensor<i32>) -> tensor<i32>
      %780 = "stablehlo.broadcast_in_dim"(%775) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3xf32>
      %781 = "stablehlo.multiply"(%780, %90) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %782 = "stablehlo.subtract"(%759#17, %r84) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %783 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %784 = "stablehlo.dot_general"(%782, %781) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
      %785 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
      %786 = "stablehlo.divide"(%785, %784) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %787 = "stablehlo.iota"() {iota_dimension = 0 : i64} : () -> tensor<3x3xi32>
      %788 = "stablehlo.iota"() {iota_dimension = 1 : i64} : () -> tensor<3x3xi32>
      %789 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<i32>} : () -> tensor<i32>
      %790 = "stablehlo.broadcast_in_dim"(%789) {broadcast_dimensions = array<i64>} : (tensor<i32>) -> tensor<3x3xi32>
      %791 = "stablehlo.add"(%787, %790) : (tensor<3x3xi32>, tensor<3x3xi32>) -> tensor<3x3xi32>
      %792 = "stablehlo.compare"(%791, %788) {comparison_direction = #stablehlo<comparison_direction EQ>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<3x3xi32>, tensor<3x3xi32>) -> tensor<3x3xi1>
      %793 = "stablehlo.constant"() {value = dense<"0x0000803F"> : tensor<f32>} : () -> tensor<f32>
      %794 = "stablehlo.broadcast_in_dim"(%793) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3x3xf32>
      %795 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %796 = "stablehlo.broadcast_in_dim"(%795) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3x3xf32>
      %797 = "stablehlo.select"(%792, %794, %796) : (tensor<3x3xi1>, tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %798 = "stablehlo.broadcast_in_dim"(%781) {broadcast_dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<3x1xf32>
      %799 = "stablehlo.broadcast_in_dim"(%786) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3x1xf32>
      %800 = "stablehlo.multiply"(%799, %798) : (tensor<3x1xf32>, tensor<3x1xf32>) -> tensor<3x1xf32>
      %801 = "stablehlo.broadcast_in_dim"(%782) {broadcast_dimensions = array<i64: 1>} : (tensor<3xf32>) -> tensor<1x3xf32>
      %802 = "stablehlo.reshape"(%800) : (tensor<3x1xf32>) -> tensor<3xf32>
      %803 = "stablehlo.broadcast_in_dim"(%802) {broadcast_dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<3x3xf32>
      %804 = "stablehlo.reshape"(%801) : (tensor<1x3xf32>) -> tensor<3xf32>
      %805 = "stablehlo.broadcast_in_dim"(%804) {broadcast_dimensions = array<i64: 1>} : (tensor<3xf32>) -> tensor<3x3xf32>
      %806 = "stablehlo.multiply"(%803, %805) : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %807 = "stablehlo.subtract"(%797, %806) : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %808 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %809 = "stablehlo.dot_general"(%r80, %807) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [1]>} : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %810 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %811 = "stablehlo.dot_general"(%809, %807) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [1]>} : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %812 = "stablehlo.broadcast_in_dim"(%781) {broadcast_dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<3x1xf32>
      %813 = "stablehlo.broadcast_in_dim"(%786) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<3x1xf32>
      %814 = "stablehlo.multiply"(%813, %812) : (tensor<3x1xf32>, tensor<3x1xf32>) -> tensor<3x1xf32>
      %815 = "stablehlo.broadcast_in_dim"(%781) {broadcast_dimensions = array<i64: 1>} : (tensor<3xf32>) -> tensor<1x3xf32>
      %816 = "stablehlo.reshape"(%814) : (tensor<3x1xf32>) -> tensor<3xf32>
      %817 = "stablehlo.broadcast_in_dim"(%816) {broadcast_dimensions = array<i64: 0>} : (tensor<3xf32>) -> tensor<3x3xf32>
      %818 = "stablehlo.reshape"(%815) : (tensor<1x3xf32>) -> tensor<3xf32>
      %819 = "stablehlo.broadcast_in_dim"(%818) {broadcast_dimensions = array<i64: 1>} : (tensor<3xf32>) -> tensor<3x3xf32>
      %820 = "stablehlo.multiply"(%817, %819) : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %821 = "stablehlo.add"(%811, %820) : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %822 = "stablehlo.is_finite"(%786) : (tensor<f32>) -> tensor<i1>
      %823 = "stablehlo.broadcast_in_dim"(%822) {broadcast_dimensions = array<i64>} : (tensor<i1>) -> tensor<3x3xi1>
      %824 = "stablehlo.select"(%823, %821, %r80) : (tensor<3x3xi1>, tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
      %825 = "stablehlo.abs"(%759#17) : (tensor<3xf32>) -> tensor<3xf32>
      %826 = "stablehlo.constant"() {value = dense<"0x000080FF"> : tensor<f32>} : () -> tensor<f32>
      %830 = "stablehlo.reduce"(%825, %826) ({
      ^bb0(%r827: tensor<f32>, %r828: tensor<f32>):
        %829 = "stablehlo.maximum"(%r827, %r828) : (tensor<f32>, tensor<f32>) -> tensor<f32>
        "stablehlo.return"(%829) : (tensor<f32>) -> ()
      }) {dimensions = array<i64: 0>} : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
      %831 = "stablehlo.constant"() {value = dense<"0x00000000"> : tensor<f32>} : () -> tensor<f32>
      %832 = "stablehlo.maximum"(%830, %831) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %833 = "stablehlo.constant"() {value = dense<"0xACC52737"> : tensor<f32>} : () -> tensor<f32>
      %834 = "stablehlo.compare"(%832, %833) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type FLOAT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %835 = "stablehlo.constant"() {value = dense<"0x01000000"> : tensor<i32>} : () -> tensor<i32>
      %836 = "stablehlo.add"(%r85, %835) : (tensor<i32>, tensor<i32>) -> tensor<i32>
      %837 = "stablehlo.add"(%r87, %781) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %838 = "stablehlo.not"(%r81) : (tensor<i1>) -> tensor<i1>
      %839 = "stablehlo.constant"() {value = dense<"0x58020000"> : tensor<i32>} : () -> tensor<i32>
      %840 = "stablehlo.compare"(%r85, %839) {comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type SIGNED>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %841 = "stablehlo.and"(%838, %840) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %842 = "stablehlo.not"(%r83) : (tensor<i1>) -> tensor<i1>
      %843 = "stablehlo.and"(%841, %842) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %844 = "stablehlo.select"(%843, %834, %r81) : (tensor<i1>, tensor<i1>, tensor<i1>) -> tensor<i1>
      %845 = "stablehlo.select"(%843, %777, %r83) : (tensor<i1>, tensor<i1>, tensor<i1>) -> tensor<i1>
      "stablehlo.return"(%824, %844, %759#15, %845, %759#17, %836, %r82, %837) : (tensor<3x3xf32>, tensor<i1>, tensor<f32>, tensor<i1>, tensor<3xf32>, tensor<i32>, tensor<f32>, tensor<3xf32>) -> ()
    }) : (tensor<3x3xf32>, tensor<i1>, tensor<f32>, tensor<i1>, tensor<3xf32>, tensor<i32>, tensor<f32>, tensor<3xf32>) -> (tensor<3x3xf32>, tensor<i1>, tensor<f32>, tensor<i1>, tensor<3xf32>, tensor<i32>, tensor<f32>, tensor<3xf32>)
    func.return %846#2, %846#5 : tensor<f32>, tensor<i32>
  }
}
