// Checkpoints: save and restore networks, optimizers, LR schedulers and engine state, written
// atomically (temporary file + rename), with keep-best / keep-last rotation (MONAI's
// CheckpointSaver and CheckpointLoader).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <c10/core/Device.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/schedulers/lr_scheduler.h>
#include <torch/serialize/archive.h>

#include "med/engines/engine.h"

namespace med::handlers {

using engines::Engine;

/// One entry of a checkpoint: how to write it into, and read it back from, an archive. Built
/// from a module (holder or shared_ptr), an optimizer, an LR scheduler, an engine (its
/// state_dict; loading keeps the engine's max_epochs so training can be extended, as MONAI
/// does), or a pair of callables.
///
///   SaveDict save_dict{{"net", net}, {"opt", optimizer}, {"trainer", trainer}};
struct Checkpointable {
  std::function<void(torch::serialize::OutputArchive &)> save;
  std::function<void(torch::serialize::InputArchive &)> load;

  Checkpointable(std::function<void(torch::serialize::OutputArchive &)> save_fn,
                 std::function<void(torch::serialize::InputArchive &)> load_fn)
      : save(std::move(save_fn)), load(std::move(load_fn)) {}
  template <typename Impl>
  Checkpointable(const torch::nn::ModuleHolder<Impl> &holder)
      : Checkpointable(std::static_pointer_cast<torch::nn::Module>(holder.ptr())) {}
  template <typename T> Checkpointable(std::shared_ptr<T> object) {
    if constexpr (std::is_base_of_v<torch::nn::Module, T>)
      set_module(std::static_pointer_cast<torch::nn::Module>(object));
    else if constexpr (std::is_base_of_v<torch::optim::Optimizer, T>)
      set_optimizer(std::static_pointer_cast<torch::optim::Optimizer>(object));
    else if constexpr (std::is_base_of_v<torch::optim::LRScheduler, T>)
      set_scheduler(std::static_pointer_cast<torch::optim::LRScheduler>(object));
    else
      static_assert(sizeof(T) == 0, "Checkpointable: expected a module, optimizer or scheduler");
  }
  Checkpointable(Engine &engine);

private:
  void set_module(std::shared_ptr<torch::nn::Module> m);
  void set_optimizer(std::shared_ptr<torch::optim::Optimizer> o);
  void set_scheduler(std::shared_ptr<torch::optim::LRScheduler> s);
};

/// name -> entry (MONAI's save_dict / load_dict).
using SaveDict = std::map<std::string, Checkpointable>;

/// Writes every entry of `save_dict` to `path` atomically: the archive goes to a temporary file
/// in the same directory, which is flushed, synced and renamed over `path`; on any failure the
/// temporary file is removed and `path` is left as it was. Throws med::Error.
void save_checkpoint(const std::string &path, const SaveDict &save_dict);

/// Reads `path` into the entries of `load_dict`. With `strict`, an entry missing from the file
/// is an error; otherwise it is skipped. `map_location` moves tensors to that device.
void load_checkpoint(const std::string &path, const SaveDict &load_dict, bool strict = true,
                     std::optional<c10::Device> map_location = std::nullopt);

/// CheckpointSaver's arguments (MONAI's names and defaults). File names, with P = file_prefix
/// + "_" when file_prefix is set: final "Pcheckpoint_final_iteration=N.pt" (or
/// final_filename), key metric "Pcheckpoint_key_metric=S.pt" (S with 4 decimals; or
/// key_metric_filename, overwritten on improvement), interval "Pcheckpoint_epoch=N.pt" or
/// "Pcheckpoint_iteration=N.pt".
struct CheckpointSaverOptions {
  CheckpointSaverOptions(std::string save_dir, SaveDict save_dict)
      : save_dir_(std::move(save_dir)), save_dict_(std::move(save_dict)) {}
  TORCH_ARG(std::string, save_dir);
  TORCH_ARG(SaveDict, save_dict);
  TORCH_ARG(std::string, file_prefix) = "";
  /// Save at COMPLETED and, before rethrowing, at EXCEPTION_RAISED.
  TORCH_ARG(bool, save_final) = false;
  TORCH_ARG(std::string, final_filename) = "";
  /// Save when the key metric improves (attach to the engine that computes it).
  TORCH_ARG(bool, save_key_metric) = false;
  /// Empty: the engine's state.key_metric_name.
  TORCH_ARG(std::string, key_metric_name) = "";
  TORCH_ARG(int64_t, key_metric_n_saved) = 1;
  TORCH_ARG(std::string, key_metric_filename) = "";
  TORCH_ARG(bool, key_metric_greater_or_equal) = false;
  /// Lower is better (the score is the negated metric).
  TORCH_ARG(bool, key_metric_negative_sign) = false;
  TORCH_ARG(bool, epoch_level) = true;
  /// Save every save_interval epochs (epoch_level) or iterations; 0 disables.
  TORCH_ARG(int64_t, save_interval) = 0;
  /// Interval checkpoints kept (the newest); <= 0 keeps all.
  TORCH_ARG(int64_t, n_saved) = -1;
};

/// Saves checkpoints of `save_dict` as configured.
///
///   trainer_handlers.push_back(std::make_shared<CheckpointSaver>(
///       CheckpointSaverOptions("runs/ckpt", {{"net", net}, {"opt", opt}, {"trainer", trainer}})
///           .save_interval(1).n_saved(3).save_final(true)));
class CheckpointSaver : public engines::Handler {
public:
  using Options = CheckpointSaverOptions;
  explicit CheckpointSaver(Options options);
  void attach(Engine &engine) override;
  /// Paths of the kept interval / key-metric checkpoints, oldest / worst first.
  std::vector<std::string> interval_files() const;
  std::vector<std::string> key_metric_files() const;
  /// The last final checkpoint written ("" before).
  const std::string &final_file() const { return final_file_; }

private:
  std::string file(const std::string &stem) const;
  void save_final(Engine &e);
  void save_key_metric(Engine &e);
  void save_interval(Engine &e);

  Options o_;
  std::string final_file_;
  std::vector<std::string> interval_;
  std::vector<std::pair<double, std::string>> key_; // (score, path), worst first
};

/// CheckpointLoader's arguments.
struct CheckpointLoaderOptions {
  CheckpointLoaderOptions(std::string load_path, SaveDict load_dict)
      : load_path_(std::move(load_path)), load_dict_(std::move(load_dict)) {}
  TORCH_ARG(std::string, load_path);
  TORCH_ARG(SaveDict, load_dict);
  TORCH_ARG(bool, strict) = true;
  TORCH_ARG(std::optional<c10::Device>, map_location) = std::nullopt;
};

/// Loads a checkpoint at STARTED; with the engine in load_dict the run resumes at the saved
/// iteration (mid-epoch checkpoints continue that epoch with its next batch).
///
///   trainer.attach(std::make_shared<CheckpointLoader>(
///       CheckpointLoaderOptions("runs/ckpt/checkpoint_epoch=3.pt",
///                               {{"net", net}, {"opt", opt}, {"trainer", trainer}})));
class CheckpointLoader : public engines::Handler {
public:
  using Options = CheckpointLoaderOptions;
  explicit CheckpointLoader(Options options);
  void attach(Engine &engine) override;

private:
  Options o_;
};

} // namespace med::handlers
