/// The names of enum values: one table per enum, beside the enum, that both printing (name) and
/// reading (parse_name) use, so that a name is written once.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace roofline {

/// An enum takes part by a specialisation with the names of its values, in the order of their
/// values (0, 1, 2, ...):
///   template <> inline constexpr std::array enum_names<overlap>{"perfect", "none", "smooth"};
template <class E>
inline constexpr std::array<std::string_view, 0> enum_names{};

template <class E>
concept Named = std::is_enum_v<E> &&(enum_names<E>.size() > 0);

/// The name of a value.
template <Named E>
constexpr std::string_view name(E e) {
  return enum_names<E>[static_cast<std::size_t>(e)];
}

/// The value of a name; nullopt for any other text.
template <Named E>
constexpr std::optional<E> parse_name(std::string_view s) {
  for (std::size_t i = 0; i < enum_names<E>.size(); ++i)
    if (enum_names<E>[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

/// "a, b, c": the names, for messages that list what is allowed.
template <Named E>
std::string names_list() {
  std::string s;
  for (std::string_view n : enum_names<E>) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

}  // namespace roofline
