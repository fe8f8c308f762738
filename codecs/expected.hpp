#pragma once

#include <string>
#include <utility>
#include <variant>

namespace kesm::codecs {

/// What went wrong in a codec. Values, never exceptions.
enum class errc {
  /// The input is not valid JSON.
  invalid_json = 1,
  /// Valid JSON, but not the shape the contract allows.
  invalid_shape,
  /// A field's value is outside its allowed range, enum or pattern.
  invalid_parameter,
  /// A referenced resource (function, cluster) is not declared.
  not_found,
};

/// An error value: a code and a one-line message for the user.
struct error {
  errc code;
  std::string message;
};

/// A minimal `expected<T>`: either a T or an `error`. Codecs stay free of
/// CAF so that they can be reused and tested without an actor system.
template <class T>
class expected {
public:
  expected(T value) : v_(std::move(value)) {
    // nop
  }
  expected(error err) : v_(std::move(err)) {
    // nop
  }
  explicit operator bool() const noexcept {
    return v_.index() == 0;
  }
  T& operator*() {
    return std::get<0>(v_);
  }
  const T& operator*() const {
    return std::get<0>(v_);
  }
  T* operator->() {
    return &std::get<0>(v_);
  }
  const T* operator->() const {
    return &std::get<0>(v_);
  }
  const error& err() const {
    return std::get<1>(v_);
  }

private:
  std::variant<T, error> v_;
};

} // namespace kesm::codecs
