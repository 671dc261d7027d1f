#include "db/event_log.hpp"

namespace geo_ssf {

namespace {

constexpr const char* k_event_names[] = {"created", "updated", "deleted", "checksum_succeeded"};

}  // namespace

const char* event_name_text(EventName name) { return k_event_names[static_cast<int>(name)]; }

std::optional<EventName> parse_event_name(const std::string& text) {
    for (int i = 0; i < 4; ++i)
        if (text == k_event_names[i])
            return static_cast<EventName>(i);
    return std::nullopt;
}

long long append_events(pqxx::transaction_base& tx, const std::string& replicable, EventName name,
                        const nlohmann::json& payloads) {
    if (payloads.empty())
        return 0;
    return tx.exec_params("INSERT INTO geo_events (replicable_name, event_name, payload, created_at)"
                          " SELECT $1, $2, p, now() FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(p, n)"
                          " ORDER BY n",
                          replicable, event_name_text(name), payloads.dump())
        .affected_rows();
}

}  // namespace geo_ssf
