// The med dialect: MONAI's per-sample work as fusable tensor operations.
#pragma once

#include "mlir/IR/Dialect.h"

#include "med/MedDialect.h.inc"
