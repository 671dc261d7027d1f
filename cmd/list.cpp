// geo-ssf list: the records of one type in a given state, a page at a time.
#include "command.hpp"
#include "common/error.hpp"
#include "report/list.hpp"

#include <charconv>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace geo_ssf::cli {

namespace {

struct ListOptions {
    std::string replicable;
    std::optional<std::string> sync_state;
    std::optional<std::string> verification_state;
    int limit = 100;
    long long after = std::numeric_limits<long long>::min();
    std::string format = "table";
    bool wide = false;
    bool missing_on_primary = false;
    bool quarantined = false;
};

}  // namespace

Runner define_list(CLI::App& app) {
    auto options = std::make_shared<ListOptions>();
    app.description("List the records of one type, by id, optionally only those in a given sync or verification "
                    "state: on a primary its state rows, on a secondary its registry rows. Pages of --limit "
                    "records; --after ID starts after a record.");
    app.add_option("replicable", options->replicable, "The type, e.g. cool_widget")->required();
    app.add_option("--sync-state", options->sync_state,
                   "Secondary only: pending, started, synced or failed");
    app.add_option("--verification-state", options->verification_state,
                   "pending, started, succeeded, failed or disabled (also verification_failed, ...)");
    app.add_flag("--missing-on-primary", options->missing_on_primary,
                 "Secondary only: records synced while the primary had no repository for them");
    app.add_flag("--quarantined", options->quarantined,
                 "Secondary only: the copies in the quarantine (records removed without a deleted event), "
                 "with when each was removed and will be purged")
        ->excludes("--sync-state", "--verification-state", "--missing-on-primary");
    app.add_option("--limit", options->limit, "Records per page (default 100)")->check(CLI::Range(1, 100000));
    app.add_option("--after", options->after, "Only records with a greater id (the next page)")
        ->check(CLI::Validator(
            [](std::string& text) -> std::string {
                long long id = 0;
                auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
                if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id < 0)
                    return "\"" + printable(text) + "\" must be a record id: a whole number from 0 to " +
                           std::to_string(std::numeric_limits<long long>::max());
                return "";
            },
            "ID"));
    app.add_option("--format", options->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    app.add_flag("--wide", options->wide, "Failure texts whole, not cut to the column (JSON has them whole)");
    app.footer(R"(Examples:
  geo-ssf list cool_widget --sync-state failed
  geo-ssf list cool_widget --verification-state verification_failed --limit 20 --after 1200
  geo-ssf list cool_widget --sync-state failed --wide
  geo-ssf list cool_widget --missing-on-primary
  geo-ssf list cool_widget --quarantined
  geo-ssf list cool_widget --sync-state failed --format json | jq -r '.records[].id' | xargs geo-ssf resync cool_widget)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        site.config().replicable(options->replicable);
        if (options->quarantined) {
            auto page = list_quarantined(site, options->replicable, options->after, options->limit);
            std::cout << (options->format == "json" ? format_quarantine_page_json(page)
                                                    : format_quarantine_page_table(page));
            return ExitStatus::ok;
        }
        ListQuery query;
        if (options->sync_state)
            query.sync_state = sync_state_option(*options->sync_state);
        if (options->verification_state)
            query.verification_state = verification_state_option(*options->verification_state);
        query.missing_on_primary = options->missing_on_primary;
        query.limit = options->limit;
        query.after = options->after;
        auto page = list_records(site, options->replicable, query);
        bool secondary = !site.is_primary();
        std::cout << (options->format == "json" ? format_record_page_json(page, secondary)
                                                : format_record_page_table(page, secondary, options->wide));
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
