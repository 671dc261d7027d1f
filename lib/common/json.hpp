// JSON helpers shared by the JSON outputs and the statements that pass rows as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <type_traits>

namespace geo_ssf {

// VALUE, or null when it is absent; durations as whole seconds.
template <typename Json = nlohmann::json, typename T>
Json json_or_null(const std::optional<T>& value) {
    if (!value)
        return Json(nullptr);
    if constexpr (std::is_same_v<T, std::chrono::seconds>)
        return Json(value->count());
    else
        return Json(*value);
}

}  // namespace geo_ssf
