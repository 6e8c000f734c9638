// med::Error: the one exception type user mistakes raise (bad file, bad parameter, wrong shape).
#pragma once

#include <stdexcept>
#include <string>

namespace med {

/// Thrown for every user-facing mistake. `where` names the file, transform, key or parameter
/// at fault; the message says what was expected. `what()` is "where: message".
///
///   throw med::Error("ScaleIntensityRange.a_min", "expected a finite number, got nan");
class Error : public std::runtime_error {
public:
  Error(std::string where, const std::string &message)
      : std::runtime_error(where.empty() ? message : where + ": " + message),
        where_(std::move(where)) {}
  /// The file, transform, key or parameter named by the error.
  const std::string &where() const { return where_; }

private:
  std::string where_;
};

} // namespace med
