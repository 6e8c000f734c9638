# lit configuration for Medulla's dialect and pass tests.
import os

import lit.formats

config.name = "Medulla"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.med_binary_dir, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in"]

# med-opt first, then FileCheck/not/count from LLVM 19.
path = os.pathsep.join([config.med_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
config.substitutions.append(("%med_src", config.med_source_dir))
config.substitutions.append(("%med_bin", config.med_binary_dir))
