// The counter-based generator as generated code computes it (internal to lib/compiler): the
// same Philox4x32-10 as runtime/src/rng.cpp, so a kernel's random values equal the host's.
#pragma once

#include "mlir/IR/Builders.h"

#include <array>

namespace mlir::med::lowering {

/// The four words of the Philox block of counter (group lo, group hi, 0, 0) under the key
/// (key0, key1), each an i64 holding 32 bits, as are the keys; `group` is an i64 below 2^62.
/// The key schedule is loop-invariant, so LLVM hoists it.
std::array<Value, 4> philoxBlock(OpBuilder &b, Location l, Value group, Value key0, Value key1);

/// A key word as philoxBlock takes it: the op's f64 operand (a 32-bit key the host sampled,
/// exact in f64) as an i64 holding its 32 bits.
Value philoxKey(OpBuilder &b, Location l, Value f64Key);

} // namespace mlir::med::lowering
