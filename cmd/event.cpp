// geo-ssf event: what the primary's hooks call when records are created, updated or deleted.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/record_ids.hpp"
#include "primary/publish.hpp"

#include <cstddef>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct EventOptions {
    std::string replicable;
    std::string event;
    std::vector<std::string> ids;
};

constexpr size_t k_stdin_batch = 1000;

}  // namespace

Runner define_event(CLI::App& app) {
    auto options = std::make_shared<EventOptions>();
    app.description("Publish created, updated or deleted events for records (the primary's post-receive, delete and "
                    "bulk-delete hooks). created and updated also mark the records for verification. IDs from the "
                    "command line go in one transaction; with '-' any number of IDs is read from standard input and "
                    "published in transactions of 1000.");
    app.add_option("replicable", options->replicable, "The type, e.g. cool_widget")->required();
    app.add_option("event", options->event, "created, updated or deleted")
        ->required()
        ->check(CLI::IsMember({"created", "updated", "deleted"}));
    app.add_option("ids", options->ids, "Record IDs, or - to read them from standard input")->required();
    app.footer(R"(Examples:
  geo-ssf event cool_widget updated 42                  # post-receive hook
  geo-ssf event cool_widget deleted 42                  # before the record is deleted
  psql -Atc "SELECT id FROM cool_widgets WHERE owner_id = 7" | geo-ssf event cool_widget deleted -)");

    return [options](Invocation& invocation) {
        const Replicable& r = invocation.config().replicable(options->replicable);
        EventName name = *parse_event_name(options->event);
        Site& site = invocation.required_site();
        primary::PublishResult total;
        auto publish = [&](const std::vector<long long>& ids) {
            primary::PublishResult r = primary::publish_events(site, options->replicable, name, ids);
            total.events += r.events;
            total.marked_pending += r.marked_pending;
        };
        if (options->ids == std::vector<std::string>{"-"}) {
            read_record_ids(std::cin, k_stdin_batch, publish);
        } else {
            publish(parse_record_ids(options->ids));
        }
        if (quiet_output())  // -q: the application's hook wants nothing on success
            return ExitStatus::ok;
        std::cout << "published " << total.events << " " << options->event << " event(s) for " << r.name;
        if (name != EventName::deleted)
            std::cout << "; " << total.marked_pending << " record(s) marked for verification";
        std::cout << "\n";
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
