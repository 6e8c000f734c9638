// ArgReader (args.h).
#include "args.h"

#include <algorithm>
#include <cctype>

namespace med::networks::layers::detail {

std::string upper(const std::string &s) {
  std::string u = s;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
  return u;
}

const c10::IValue *ArgReader::get(const std::string &key) {
  if (std::find(used_.begin(), used_.end(), key) == used_.end())
    used_.push_back(key);
  auto it = args_.find(key);
  return it == args_.end() || it->second.isNone() ? nullptr : &it->second;
}

const c10::IValue *ArgReader::raw(const std::string &key) { return get(key); }

double ArgReader::real(const std::string &key, double dflt) {
  const c10::IValue *v = get(key);
  if (!v)
    return dflt;
  if (v->isDouble())
    return v->toDouble();
  if (v->isInt())
    return static_cast<double>(v->toInt());
  throw Error(where_ + "." + key, "expected a number, got " + v->tagKind());
}

int64_t ArgReader::integer(const std::string &key, int64_t dflt) {
  const c10::IValue *v = get(key);
  if (!v)
    return dflt;
  if (!v->isInt())
    throw Error(where_ + "." + key, "expected an integer, got " + v->tagKind());
  return v->toInt();
}

int64_t ArgReader::integer(const std::string &key) {
  if (!has(key) || args_.at(key).isNone())
    throw Error(where_ + "." + key, "required argument missing");
  return integer(key, 0);
}

bool ArgReader::flag(const std::string &key, bool dflt) {
  const c10::IValue *v = get(key);
  if (!v)
    return dflt;
  if (!v->isBool())
    throw Error(where_ + "." + key, "expected true or false, got " + v->tagKind());
  return v->toBool();
}

std::string ArgReader::str(const std::string &key, const std::string &dflt) {
  const c10::IValue *v = get(key);
  if (!v)
    return dflt;
  if (!v->isString())
    throw Error(where_ + "." + key, "expected a string, got " + v->tagKind());
  return v->toStringRef();
}

std::vector<int64_t> ArgReader::ints(const std::string &key,
                                     std::optional<std::vector<int64_t>> dflt) {
  const c10::IValue *v = get(key);
  if (!v) {
    if (!dflt)
      throw Error(where_ + "." + key, "required argument missing");
    return *dflt;
  }
  if (v->isInt())
    return {v->toInt()};
  if (v->isIntList())
    return v->toIntVector();
  throw Error(where_ + "." + key, "expected an integer or a list of integers, got " + v->tagKind());
}

void ArgReader::finish() const {
  std::string unknown;
  for (const auto &[k, v] : args_)
    if (std::find(used_.begin(), used_.end(), k) == used_.end())
      unknown += (unknown.empty() ? "" : ", ") + k;
  if (!unknown.empty())
    throw Error(where_, "unexpected argument(s): " + unknown);
}

void checkDims(const std::string &where, int64_t dims, const char *what) {
  if (dims < 1 || dims > 3)
    throw Error(where + "." + what, "expected 1, 2 or 3, got " + std::to_string(dims));
}

} // namespace med::networks::layers::detail
