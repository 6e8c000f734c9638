// Checkpoint entries, atomic save / load, CheckpointSaver, CheckpointLoader.
#include "med/handlers/checkpoint.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <fcntl.h>
#include <unistd.h>

#include "med/core/error.h"
#include "med/distributed/process_group.h"

namespace med::handlers {

namespace fs = std::filesystem;

namespace {
// Reaches LRScheduler's protected step counter (the only state a torch scheduler keeps besides
// the optimizer's learning rates, which the optimizer's own checkpoint holds).
struct StepCount : torch::optim::LRScheduler {
  static unsigned &of(torch::optim::LRScheduler &s) { return s.*(&StepCount::step_count_); }
};

at::Tensor scalar(double v) { return at::full({}, v, at::kDouble); }
} // namespace

void Checkpointable::set_module(std::shared_ptr<torch::nn::Module> m) {
  if (!m)
    throw Error("Checkpointable", "expected a module, got nullptr");
  save = [m](torch::serialize::OutputArchive &a) { m->save(a); };
  load = [m](torch::serialize::InputArchive &a) { m->load(a); };
}

void Checkpointable::set_optimizer(std::shared_ptr<torch::optim::Optimizer> o) {
  if (!o)
    throw Error("Checkpointable", "expected an optimizer, got nullptr");
  save = [o](torch::serialize::OutputArchive &a) { o->save(a); };
  load = [o](torch::serialize::InputArchive &a) {
    o->load(a);
    // LibTorch 1.13 saves each param group's options (lr, betas, ...) but load() ignores them;
    // restore them so that learning-rate schedules resume where they were.
    torch::serialize::InputArchive groups;
    if (!a.try_read("param_groups", groups))
      return;
    auto &pg = o->param_groups();
    for (size_t i = 0; i < pg.size(); ++i) {
      torch::serialize::InputArchive group, options;
      if (groups.try_read("param_groups/" + std::to_string(i), group) &&
          group.try_read("options", options))
        pg[i].options().serialize(options);
    }
  };
}

void Checkpointable::set_scheduler(std::shared_ptr<torch::optim::LRScheduler> s) {
  if (!s)
    throw Error("Checkpointable", "expected a scheduler, got nullptr");
  save = [s](torch::serialize::OutputArchive &a) {
    a.write("step_count", scalar(static_cast<double>(StepCount::of(*s))));
  };
  load = [s](torch::serialize::InputArchive &a) {
    at::Tensor t;
    a.read("step_count", t);
    StepCount::of(*s) = static_cast<unsigned>(t.item<double>());
  };
}

Checkpointable::Checkpointable(Engine &engine) {
  Engine *e = &engine;
  save = [e](torch::serialize::OutputArchive &a) {
    for (const auto &[k, v] : e->state_dict())
      a.write(k, scalar(v));
  };
  load = [e](torch::serialize::InputArchive &a) {
    std::map<std::string, double> dict;
    for (const auto &k : a.keys()) {
      at::Tensor t;
      a.read(k, t);
      dict[k] = t.item<double>();
    }
    int64_t max_epochs = e->state.max_epochs;
    e->load_state_dict(dict);
    e->state.max_epochs = std::max(max_epochs, int64_t{1});
    if (e->state.epoch > e->state.max_epochs)
      throw Error("CheckpointLoader",
                  "the checkpoint is at epoch " + std::to_string(e->state.epoch) +
                      ", past the engine's max_epochs " + std::to_string(e->state.max_epochs));
  };
}

void save_checkpoint(const std::string &path, const SaveDict &save_dict) {
  if (path.empty())
    throw Error("save_checkpoint.path", "expected a file path");
  static std::atomic<uint64_t> counter{0};
  fs::path target(path);
  fs::path tmp = target;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  try {
    torch::serialize::OutputArchive archive;
    for (const auto &[name, entry] : save_dict) {
      if (!entry.save)
        throw Error("save_checkpoint.save_dict." + name, "entry has no save function");
      torch::serialize::OutputArchive sub;
      entry.save(sub);
      archive.write(name, sub);
    }
    {
      std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
      if (!os)
        throw Error("save_checkpoint.path", "cannot open " + tmp.string() + " for writing");
      archive.save_to(os);
      os.flush();
      if (!os)
        throw Error("save_checkpoint.path", "write failed for " + tmp.string());
    }
    int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void load_checkpoint(const std::string &path, const SaveDict &load_dict, bool strict,
                     std::optional<c10::Device> map_location) {
  if (!fs::is_regular_file(path))
    throw Error("load_checkpoint.path", "no checkpoint file at '" + path + "'");
  torch::serialize::InputArchive archive;
  if (map_location)
    archive.load_from(path, *map_location);
  else
    archive.load_from(path);
  for (const auto &[name, entry] : load_dict) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read(name, sub)) {
      if (strict)
        throw Error("load_checkpoint.load_dict." + name, "not in checkpoint '" + path + "'");
      continue;
    }
    if (!entry.load)
      throw Error("load_checkpoint.load_dict." + name, "entry has no load function");
    entry.load(sub);
  }
}

CheckpointSaver::CheckpointSaver(Options options) : o_(std::move(options)) {
  if (o_.save_dir().empty())
    throw Error("CheckpointSaver.save_dir", "expected a directory");
  if (o_.save_dict().empty())
    throw Error("CheckpointSaver.save_dict", "expected at least one entry");
  if (o_.save_interval() < 0)
    throw Error("CheckpointSaver.save_interval", "expected >= 0");
  if (o_.key_metric_n_saved() < 1)
    throw Error("CheckpointSaver.key_metric_n_saved", "expected >= 1");
}

std::string CheckpointSaver::file(const std::string &stem) const {
  std::string prefix = o_.file_prefix().empty() ? "" : o_.file_prefix() + "_";
  return (fs::path(o_.save_dir()) / (prefix + stem)).string();
}

void CheckpointSaver::attach(Engine &engine) {
  if (!distributed::is_main_process()) // only rank 0 writes checkpoints
    return;
  fs::create_directories(o_.save_dir());
  if (o_.save_final()) {
    engine.add_event_handler(engines::Events::COMPLETED, [this](Engine &e) { save_final(e); });
    engine.add_event_handler(engines::Events::EXCEPTION_RAISED, [this](Engine &e) {
      save_final(e);
      std::rethrow_exception(e.state.exception);
    });
  }
  if (o_.save_key_metric())
    engine.add_event_handler(engines::Events::EPOCH_COMPLETED,
                             [this](Engine &e) { save_key_metric(e); });
  if (o_.save_interval() > 0) {
    const engines::Event &ev =
        o_.epoch_level() ? engines::Events::EPOCH_COMPLETED : engines::Events::ITERATION_COMPLETED;
    engine.add_event_handler(ev.every(o_.save_interval()), [this](Engine &e) { save_interval(e); });
  }
}

void CheckpointSaver::save_final(Engine &e) {
  std::string path =
      o_.final_filename().empty()
          ? file("checkpoint_final_iteration=" + std::to_string(e.state.iteration) + ".pt")
          : (fs::path(o_.save_dir()) / o_.final_filename()).string();
  save_checkpoint(path, o_.save_dict());
  final_file_ = path;
}

void CheckpointSaver::save_key_metric(Engine &e) {
  std::string name = o_.key_metric_name().empty() ? e.state.key_metric_name : o_.key_metric_name();
  if (name.empty())
    throw Error("CheckpointSaver.key_metric_name",
                "expected a key metric name (the engine has no key metric)");
  auto it = e.state.metrics.find(name);
  if (it == e.state.metrics.end())
    throw Error("CheckpointSaver.key_metric_name", "no metric '" + name + "' in engine state");
  double score = o_.key_metric_negative_sign() ? -it->second : it->second;
  const auto n = static_cast<size_t>(o_.key_metric_n_saved());
  if (key_.size() >= n) {
    double worst = key_.front().first;
    bool better = o_.key_metric_greater_or_equal() ? score >= worst : score > worst;
    if (!better)
      return;
  }
  std::string path;
  if (!o_.key_metric_filename().empty()) {
    path = (fs::path(o_.save_dir()) / o_.key_metric_filename()).string();
  } else {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(4);
    s << "checkpoint_key_metric=" << it->second << ".pt";
    path = file(s.str());
  }
  save_checkpoint(path, o_.save_dict());
  key_.erase(std::remove_if(key_.begin(), key_.end(), [&](auto &p) { return p.second == path; }),
             key_.end());
  key_.emplace_back(score, path);
  std::stable_sort(key_.begin(), key_.end(),
                   [](const auto &a, const auto &b) { return a.first < b.first; });
  while (key_.size() > n) {
    if (key_.front().second != path) {
      std::error_code ec;
      fs::remove(key_.front().second, ec);
    }
    key_.erase(key_.begin());
  }
}

void CheckpointSaver::save_interval(Engine &e) {
  std::string path =
      o_.epoch_level() ? file("checkpoint_epoch=" + std::to_string(e.state.epoch) + ".pt")
                       : file("checkpoint_iteration=" + std::to_string(e.state.iteration) + ".pt");
  save_checkpoint(path, o_.save_dict());
  interval_.erase(std::remove(interval_.begin(), interval_.end(), path), interval_.end());
  interval_.push_back(path);
  while (o_.n_saved() > 0 && interval_.size() > static_cast<size_t>(o_.n_saved())) {
    std::error_code ec;
    fs::remove(interval_.front(), ec);
    interval_.erase(interval_.begin());
  }
}

std::vector<std::string> CheckpointSaver::interval_files() const { return interval_; }

std::vector<std::string> CheckpointSaver::key_metric_files() const {
  std::vector<std::string> out;
  for (const auto &p : key_)
    out.push_back(p.second);
  return out;
}

CheckpointLoader::CheckpointLoader(Options options) : o_(std::move(options)) {
  if (o_.load_path().empty())
    throw Error("CheckpointLoader.load_path", "expected a checkpoint path");
  if (o_.load_dict().empty())
    throw Error("CheckpointLoader.load_dict", "expected at least one entry");
}

void CheckpointLoader::attach(Engine &engine) {
  engine.add_event_handler(engines::Events::STARTED, [this](Engine &) {
    load_checkpoint(o_.load_path(), o_.load_dict(), o_.strict(), o_.map_location());
  });
}

} // namespace med::handlers
