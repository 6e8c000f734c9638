// med-opt: runs med passes on .mlir files; drives the lit tests. Registers only the dialects and
// passes the project uses (registering everything upstream costs ~50 s to compile).
#include "med/compiler/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::med::registerMedCompilerDialects(registry);
  mlir::med::registerMedPassesAndPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "Medulla optimizer\n", registry));
}
