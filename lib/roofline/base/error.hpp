/// The one exception type for bad input: its message is "file:line:col: what is wrong".
#pragma once

#include <stdexcept>

namespace roofline {

struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace roofline
