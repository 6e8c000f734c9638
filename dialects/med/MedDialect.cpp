#include "med/MedDialect.h"
#include "med/MedOps.h"

using namespace mlir;
using namespace mlir::med;

#include "med/MedDialect.cpp.inc"

void MedDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "med/MedOps.cpp.inc"
      >();
}
