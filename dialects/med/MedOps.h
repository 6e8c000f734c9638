// Operations of the med dialect (generated from MedOps.td).
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "med/MedDialect.h"

#define GET_OP_CLASSES
#include "med/MedOps.h.inc"

namespace mlir::med {
/// True unless `op` is a med op that needs a whole-image reduction (see isElementwise() on each
/// op). Non-med ops count as elementwise.
bool isElementwise(Operation *op);
} // namespace mlir::med
