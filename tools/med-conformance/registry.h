// What med-conformance can run: a map from a MONAI call name to a runner, plus the transform
// factories shared by single-transform and Compose cases.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "case.h"
#include "med/transforms/transform.h"

namespace med::conformance {

/// What a runner produces: arrays named as in case.json's `outputs` (without "output_"), scalars
/// named as in `scalars`. A stored output or scalar that a runner deliberately does not reproduce
/// (e.g. a Python repr) goes into `skipped` with the reason; anything else missing is a failure.
struct Outputs {
  std::map<std::string, MetaTensor> arrays;
  nlohmann::json scalars = nlohmann::json::object();
  std::map<std::string, std::string> skipped;
};

/// Thrown by a runner for a parameter combination Medulla does not implement yet. The case is
/// reported UNSUPPORTED with what() as the reason, not FAIL: a missing feature is not a wrong
/// result.
class Unsupported : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Reads a MONAI kwargs object and remembers which keys were used, so a kwarg that a factory
/// does not understand makes the case UNSUPPORTED (finish()) instead of being silently ignored.
/// A present kwarg of the wrong JSON type throws med::Error (the golden case is malformed).
class Kwargs {
public:
  Kwargs(std::string owner, const nlohmann::json &kwargs);
  /// Present and not null.
  bool has(const std::string &key) const;
  /// A required number.
  double number(const std::string &key);
  /// A number with MONAI's default, used when the kwarg is absent.
  double number(const std::string &key, double dflt);
  /// Absent or null -> nullopt (MONAI's `None`).
  std::optional<double> optNumber(const std::string &key);
  bool boolean(const std::string &key, bool dflt);
  std::string string(const std::string &key, const std::string &dflt);
  /// A number or a list of numbers (MONAI's `Sequence[float] | float`), as a list.
  std::vector<double> numbers(const std::string &key);
  /// A list of integers (e.g. spatial axes or sizes); a single integer becomes a list of one.
  std::vector<int64_t> ints(const std::string &key);
  /// ints(key), or `dflt` when the kwarg is absent or null.
  std::vector<int64_t> ints(const std::string &key, std::vector<int64_t> dflt);
  /// A single integer with MONAI's default (e.g. Rotate90's k).
  int64_t integer(const std::string &key, int64_t dflt);
  /// The raw value (null when absent), marked as used.
  const nlohmann::json &raw(const std::string &key);
  /// Accepts `key` only when absent or equal to one of `allowed`; otherwise Unsupported with
  /// `why`. For kwargs where Medulla implements MONAI's default only (e.g. dtype "float32").
  void only(const std::string &key, const std::vector<nlohmann::json> &allowed,
            const std::string &why);
  /// Throws Unsupported naming every kwarg no accessor has read.
  void finish() const;
  const std::string &owner() const { return owner_; }

private:
  const nlohmann::json &get(const std::string &key);
  std::string owner_;
  nlohmann::json kwargs_;
  std::vector<std::string> used_;
};

/// Runs one case with its loaded inputs (Case::inputData). Throws Unsupported for parameter
/// combinations we do not implement; any other exception makes the case FAIL.
using Runner = std::function<Outputs(const Case &)>;

/// Builds a Medulla transform step from MONAI kwargs (Kwargs::finish() is called afterwards by
/// the caller, so a factory reads what it supports and leaves the rest to be reported).
using StepFactory = std::function<transforms::Step(Kwargs &)>;

/// The table of what can be run, keyed by MONAI names. Built once (global()); register
/// functions of each family (registerTransformRunners, later losses, metrics...) fill it.
class Registry {
public:
  /// The registry with every family's runners.
  static const Registry &global();

  /// Registers the runner for cases whose Case::callName is `call` (e.g. "ScaleIntensityRange",
  /// "Compose", "DiceLoss").
  void add(const std::string &call, Runner runner);
  /// Registers a transform factory under its MONAI class name, and a runner for single-
  /// transform cases of that name (img -> out through the compiled pipeline).
  void addTransform(const std::string &name, StepFactory factory);

  const Runner *find(const std::string &call) const;
  const StepFactory *findTransform(const std::string &name) const;
  /// Registered call names, sorted (for --list and docs).
  std::vector<std::string> calls() const;

  /// Builds the step for MONAI transform `name` with `kwargs`; Unsupported when `name` has no
  /// factory or a kwarg is not understood.
  transforms::Step buildStep(const std::string &name, const nlohmann::json &kwargs) const;

private:
  std::map<std::string, Runner> runners_;
  std::map<std::string, StepFactory> transforms_;
};

/// Runs `steps` on `img` through Compose(...).compile() on one thread: conformance checks the
/// compiled (fused) path users run, not the eager reference that unit tests already compare.
MetaTensor runCompiled(const std::vector<transforms::Step> &steps, const MetaTensor &img);

/// Registers the intensity transforms (runners_transforms.cpp).
void registerTransformRunners(Registry &r);
/// Registers Compose (array and dictionary steps, Compose.inverse) and Invertd
/// (runners_compose.cpp).
void registerComposeRunners(Registry &r);
/// Registers Flip, Rotate90, Orientation and the crops and pads (runners_spatial.cpp).
void registerSpatialRunners(Registry &r);
/// Registers Spacing, Affine, Rotate, Zoom and Resize (runners_resample.cpp).
void registerResampleRunners(Registry &r);
/// Registers GaussianSmooth and GaussianSharpen (runners_smooth.cpp).
void registerSmoothRunners(Registry &r);
/// Registers sliding_window_inference (runners_inference.cpp).
void registerInferenceRunners(Registry &r);
/// Registers the losses (runners_losses.cpp).
void registerLossRunners(Registry &r);
/// Registers the metrics (runners_metrics.cpp).
void registerMetricRunners(Registry &r);
/// Registers the network architectures (runners_networks.cpp).
void registerNetworkRunners(Registry &r);
/// Registers ViT, UNETR, SwinUNETR and EfficientNetBN (runners_networks_vit.cpp).
void registerVitNetworkRunners(Registry &r);
/// Registers DynUNet, ResNet, DenseNet, SENet, VNet and HighResNet (runners_networks_cnn.cpp).
void registerCnnNetworkRunners(Registry &r);
/// Registers AHNet (runners_networks_more.cpp).
void registerMoreNetworkRunners(Registry &r);
/// Registers RegUNet, LocalNet, GlobalNet, Critic, FullyConnectedNet and VarFullyConnectedNet
/// (runners_networks_reg.cpp).
void registerRegNetworkRunners(Registry &r);
/// Registers SegResNetVAE and ViTAutoEnc (runners_networks_vae.cpp).
void registerVaeNetworkRunners(Registry &r);

} // namespace med::conformance
