#include "secondary/undefined_types.hpp"
#include "site/config.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace geo_ssf;
using geo_ssf::secondary::undefined_types;

TEST_SUITE("secondary") {

TEST_CASE("secondary::undefined_types names the primary's states tables no type here defines") {
    Config config;
    config.file = "/etc/geo-ssf/config.yml";
    config.replicables_dir = "/etc/geo-ssf/replicables";
    config.migrations_dir = "/etc/geo-ssf/migrations";
    const std::string fix = "; copy the primary's replicables/ and migrations/ folders to /etc/geo-ssf/replicables and "
                            "/etc/geo-ssf/migrations, then run geo-ssf migrate";
    CHECK(undefined_types(config, {}) == "this site defines no replicable type (/etc/geo-ssf/replicables has none)" + fix);
    CHECK(undefined_types(config, {"cool_widget_states"}) ==
          "this site defines no replicable type (/etc/geo-ssf/replicables has none), and the primary's database has "
          "states tables: cool_widget_states" + fix);
    Replicable cool_widget;
    cool_widget.name = "cool_widget";
    cool_widget.states_table = "cool_widget_states";
    cool_widget.replication_enabled = false;  // defined is enough: its events are skipped on purpose
    config.replicables.push_back(cool_widget);
    CHECK(undefined_types(config, {}) == std::nullopt);
    CHECK(undefined_types(config, {"cool_widget_states"}) == std::nullopt);
    CHECK(undefined_types(config, {"cool_widget_states", "gadget_states", "widget_states"}) ==
          "the primary's database has states tables of types this site does not define: gadget_states, widget_states" +
              fix);
}

}  // TEST_SUITE
