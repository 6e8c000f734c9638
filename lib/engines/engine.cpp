// The event loop: epochs of iterations over a DataSource, firing events for the handlers.
#include "med/engines/engine.h"

#include <algorithm>

#include "med/core/error.h"

namespace med::engines {

namespace {
const std::vector<std::string> &builtin_events() {
  static const std::vector<std::string> names = {
      Events::STARTED.name(),           Events::EPOCH_STARTED.name(),
      Events::GET_BATCH_STARTED.name(), Events::GET_BATCH_COMPLETED.name(),
      Events::ITERATION_STARTED.name(), Events::ITERATION_COMPLETED.name(),
      Events::EPOCH_COMPLETED.name(),   Events::COMPLETED.name(),
      Events::TERMINATE.name(),         Events::EXCEPTION_RAISED.name()};
  return names;
}

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }
} // namespace

Event Event::every(int64_t n) const {
  if (n < 1)
    throw Error("Event.every", "expected n >= 1, got " + std::to_string(n));
  return filter([n](const Engine &, int64_t count) { return count % n == 0; });
}

Event Event::once(int64_t n) const {
  if (n < 1)
    throw Error("Event.once", "expected n >= 1, got " + std::to_string(n));
  return filter([n](const Engine &, int64_t count) { return count == n; });
}

Event Event::filter(Filter f) const {
  if (!f)
    throw Error("Event.filter", "expected a callable filter");
  Event out(name_);
  out.filter_ = std::move(f);
  return out;
}

Engine::Engine(ProcessFn process) : process_(std::move(process)) {}

Engine::~Engine() = default;

bool Engine::is_registered(const std::string &name) const {
  const auto &b = builtin_events();
  return std::find(b.begin(), b.end(), name) != b.end() ||
         std::find(custom_events_.begin(), custom_events_.end(), name) != custom_events_.end();
}

void Engine::register_events(const std::vector<std::string> &names) {
  for (const auto &n : names) {
    if (n.empty())
      throw Error("Engine.register_events", "expected non-empty event names");
    if (!is_registered(n))
      custom_events_.push_back(n);
  }
}

Engine::HandlerId Engine::add_event_handler(const Event &event, HandlerFn fn) {
  if (!is_registered(event.name()))
    throw Error("Engine.add_event_handler.event",
                "unknown event '" + event.name() + "'; call register_events first");
  if (!fn)
    throw Error("Engine.add_event_handler.handler", "expected a callable handler");
  HandlerId id = next_id_++;
  callbacks_[event.name()].push_back(Callback{id, event, std::move(fn)});
  return id;
}

void Engine::remove_event_handler(HandlerId id) {
  for (auto &[name, list] : callbacks_)
    list.erase(
        std::remove_if(list.begin(), list.end(), [id](const Callback &c) { return c.id == id; }),
        list.end());
}

bool Engine::has_event_handler(const Event &event) const {
  auto it = callbacks_.find(event.name());
  return it != callbacks_.end() && !it->second.empty();
}

void Engine::attach(std::shared_ptr<Handler> handler) {
  if (!handler)
    throw Error("Engine.attach.handler", "expected a handler, got nullptr");
  handlers_.push_back(handler);
  handler->attach(*this);
}

int64_t Engine::event_count(const Event &event) {
  int64_t &n = fired_[event.name()];
  ++n;
  if (starts_with(event.name(), "ITERATION_"))
    return state.iteration;
  if (starts_with(event.name(), "EPOCH_"))
    return state.epoch;
  return n;
}

void Engine::fire_event(const Event &event) {
  if (!is_registered(event.name()))
    throw Error("Engine.fire_event.event",
                "unknown event '" + event.name() + "'; call register_events first");
  fire(event, event_count(event));
}

void Engine::fire(const Event &event, int64_t count) {
  auto it = callbacks_.find(event.name());
  if (it == callbacks_.end())
    return;
  // Index loop: a callback may add callbacks to this event while it runs.
  for (size_t i = 0; i < it->second.size(); ++i) {
    const Callback &c = it->second[i];
    if (c.event.fires(*this, count)) {
      HandlerFn fn = c.fn; // copy: the list may grow while fn runs
      fn(*this);
    }
  }
}

void Engine::terminate() { should_terminate_ = true; }

void Engine::terminate_epoch() { should_terminate_epoch_ = true; }

void Engine::run(DataSource source, int64_t max_epochs, int64_t epoch_length) {
  if (max_epochs < 1)
    throw Error("Engine.run.max_epochs", "expected >= 1, got " + std::to_string(max_epochs));
  data = std::move(source);
  state.max_epochs = max_epochs;
  if (epoch_length > 0)
    state.epoch_length = epoch_length;
  run();
}

void Engine::run_epoch(int64_t skip) {
  data.set_epoch(state.epoch);
  DataSource::Cursor cursor = data.open();
  bool fresh = true; // nothing read from this pass yet
  auto next = [&](Data &out) {
    if (cursor(out)) {
      fresh = false;
      return;
    }
    if (fresh)
      throw Error("Engine.run.data", "the data source yielded no batch");
    cursor = data.open(); // a new pass when epoch_length exceeds the source
    fresh = true;
    if (!cursor(out))
      throw Error("Engine.run.data", "the data source yielded no batch");
    fresh = false;
  };
  Data scratch;
  for (int64_t i = 0; i < skip; ++i)
    next(scratch);
  for (int64_t done = skip; done < state.epoch_length; ++done) {
    if (should_terminate_ || should_terminate_epoch_)
      break;
    fire(Events::GET_BATCH_STARTED, event_count(Events::GET_BATCH_STARTED));
    Data batch;
    next(batch);
    state.batch = std::move(batch);
    fire(Events::GET_BATCH_COMPLETED, event_count(Events::GET_BATCH_COMPLETED));
    state.iteration += 1;
    fire(Events::ITERATION_STARTED, event_count(Events::ITERATION_STARTED));
    state.output = process_(*this, state.batch);
    fire(Events::ITERATION_COMPLETED, event_count(Events::ITERATION_COMPLETED));
  }
}

void Engine::run() {
  if (!data)
    throw Error("Engine.run.data", "expected a data source, got none");
  if (!process_)
    throw Error("Engine.run", "expected an iteration function, got none");
  if (state.epoch_length <= 0)
    state.epoch_length = data.size();
  if (state.epoch_length <= 0)
    throw Error("Engine.run.epoch_length",
                "expected > 0 (the data source has no batches and no epoch_length was set)");
  if (state.max_epochs < 1)
    throw Error("Engine.run.max_epochs", "expected >= 1, got " + std::to_string(state.max_epochs));
  if (state.iteration >= state.epoch_length * state.max_epochs) { // finished: start over
    state.epoch = 0;
    state.iteration = 0;
  }
  should_terminate_ = false;
  state.exception = nullptr;
  try {
    fire(Events::STARTED, event_count(Events::STARTED));
    while (state.epoch < state.max_epochs && !should_terminate_) {
      int64_t skip = std::max<int64_t>(0, state.iteration - state.epoch * state.epoch_length);
      state.epoch += 1;
      should_terminate_epoch_ = false;
      fire(Events::EPOCH_STARTED, event_count(Events::EPOCH_STARTED));
      run_epoch(skip);
      if (should_terminate_)
        break;
      fire(Events::EPOCH_COMPLETED, event_count(Events::EPOCH_COMPLETED));
    }
    if (should_terminate_)
      fire(Events::TERMINATE, event_count(Events::TERMINATE));
    fire(Events::COMPLETED, event_count(Events::COMPLETED));
  } catch (...) {
    state.exception = std::current_exception();
    if (!has_event_handler(Events::EXCEPTION_RAISED))
      throw;
    fire(Events::EXCEPTION_RAISED, event_count(Events::EXCEPTION_RAISED));
  }
}

std::map<std::string, double> Engine::state_dict() const {
  return {{"epoch", static_cast<double>(state.epoch)},
          {"iteration", static_cast<double>(state.iteration)},
          {"epoch_length", static_cast<double>(state.epoch_length)},
          {"max_epochs", static_cast<double>(state.max_epochs)},
          {"best_metric", state.best_metric},
          {"best_metric_epoch", static_cast<double>(state.best_metric_epoch)}};
}

void Engine::load_state_dict(const std::map<std::string, double> &dict) {
  auto get = [&](const char *key) {
    auto it = dict.find(key);
    if (it == dict.end())
      throw Error(std::string("Engine.load_state_dict.") + key, "missing from the state dict");
    return it->second;
  };
  state.iteration = static_cast<int64_t>(get("iteration"));
  state.epoch_length = static_cast<int64_t>(get("epoch_length"));
  state.max_epochs = static_cast<int64_t>(get("max_epochs"));
  if (state.epoch_length <= 0)
    throw Error("Engine.load_state_dict.epoch_length",
                "expected > 0, got " + std::to_string(state.epoch_length));
  state.epoch = state.iteration / state.epoch_length;
  if (dict.count("best_metric"))
    state.best_metric = dict.at("best_metric");
  if (dict.count("best_metric_epoch"))
    state.best_metric_epoch = static_cast<int64_t>(dict.at("best_metric_epoch"));
}

} // namespace med::engines
