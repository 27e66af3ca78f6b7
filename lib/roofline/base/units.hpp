/// Units of the model: FLOPs, bytes, seconds and their rates as Boost.Units quantities.
#pragma once

// The only header that includes Boost. FLOPs and bytes get base dimensions of their
// own, so that adding FLOPs to bytes or dividing bytes by a FLOP rate does not compile.
#include <boost/units/base_dimension.hpp>
#include <boost/units/base_unit.hpp>
#include <boost/units/make_system.hpp>
#include <boost/units/physical_dimensions/time.hpp>
#include <boost/units/quantity.hpp>
#include <boost/units/systems/si/base.hpp>
#include <boost/units/unit.hpp>

namespace roofline {

namespace detail {
namespace bu = boost::units;
// Positive ordinals: Boost.Units reserves negative ones for its own dimensions.
struct flop_base_dimension : bu::base_dimension<flop_base_dimension, 1> {};
struct byte_base_dimension : bu::base_dimension<byte_base_dimension, 2> {};
struct flop_base_unit : bu::base_unit<flop_base_unit, flop_base_dimension::dimension_type, 1> {
  static const char* name() { return "floating-point operation"; }
  static const char* symbol() { return "FLOP"; }
};
struct byte_base_unit : bu::base_unit<byte_base_unit, byte_base_dimension::dimension_type, 2> {
  static const char* name() { return "byte"; }
  static const char* symbol() { return "B"; }
};
using unit_system = bu::make_system<flop_base_unit, byte_base_unit, bu::si::second_base_unit>::type;
using flop_unit = bu::unit<flop_base_dimension::dimension_type, unit_system>;
using byte_unit = bu::unit<byte_base_dimension::dimension_type, unit_system>;
using second_unit = bu::unit<bu::time_dimension, unit_system>;
using flop_rate_unit = bu::divide_typeof_helper<flop_unit, second_unit>::type;
using byte_rate_unit = bu::divide_typeof_helper<byte_unit, second_unit>::type;
using intensity_unit = bu::divide_typeof_helper<flop_unit, byte_unit>::type;
}  // namespace detail

using flops = boost::units::quantity<detail::flop_unit>;
using bytes = boost::units::quantity<detail::byte_unit>;
using seconds = boost::units::quantity<detail::second_unit>;
using flop_rate = boost::units::quantity<detail::flop_rate_unit>;  ///< FLOP/s
using byte_rate = boost::units::quantity<detail::byte_rate_unit>;  ///< B/s
using intensity = boost::units::quantity<detail::intensity_unit>;  ///< FLOP/B

inline constexpr detail::flop_unit flop{};
inline constexpr detail::byte_unit byte{};
inline constexpr detail::second_unit second{};
inline constexpr detail::flop_rate_unit flop_per_second{};
inline constexpr detail::byte_rate_unit byte_per_second{};

/// Larger of two quantities of one unit.
template <class Q>
constexpr Q max(Q a, Q b) {
  return a < b ? b : a;
}

}  // namespace roofline
