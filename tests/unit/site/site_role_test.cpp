#include "site/site_role.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace geo_ssf;

namespace {

Config config_of(Role role, const std::string& name) {
    Config config;
    config.role = role;
    config.site_name = name;
    return config;
}

PrimaryRecord primary(int generation, const std::string& site, const std::string& from = "") {
    PrimaryRecord out;
    out.generation = generation;
    out.site_name = site;
    out.system_identifier = "7000";
    out.timeline = generation + 1;
    out.promoted_from = from;
    out.became_primary_at = "2026-12-14T10:00:00Z";
    return out;
}

DatabaseIdentity database(int timeline, bool in_recovery) { return {"7000", timeline, in_recovery}; }

PromotionRecord promotion(int generation, bool finished) {
    PromotionRecord out;
    out.generation = generation;
    out.from_site = "london";
    out.step = finished ? "finished" : "states";
    out.started_at = "2026-12-14T10:00:00Z";
    if (finished)
        out.finished_at = "2026-12-14T10:01:00Z";
    return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("site_role") {

TEST_CASE("site_role::a primary is the config's until a promotion is recorded, then the one its database names") {
    Config london = config_of(Role::primary, "london");
    SUBCASE("no promotion recorded") {
        SiteRole role = resolve_role(london, {database(1, false), std::nullopt, std::nullopt});
        CHECK(role.role == Role::primary);
        CHECK(role.source == RoleSource::config);
        CHECK_FALSE(role.refusal);
    }
    SUBCASE("promoted back to the primary later") {
        SiteRole role = resolve_role(london, {database(3, false), primary(2, "london", "paris"), std::nullopt});
        CHECK(role.role == Role::primary);
        CHECK(role.source == RoleSource::database);
        CHECK_FALSE(role.refusal);
        CHECK(role.description == "primary, recorded in the main database: london (generation 2, promoted from "
                                  "paris at 2026-12-14T10:00:00Z)");
    }
}

TEST_CASE("site_role::an old primary whose database names another site refuses to act (split brain)") {
    Config london = config_of(Role::primary, "london");
    SiteRole role = resolve_role(london, {database(2, false), primary(1, "paris", "london"), std::nullopt});
    REQUIRE(role.refusal);
    CHECK(contains(*role.refusal, "this site (london) is set up as the primary, but its main database names paris "
                                  "(generation 1, promoted from london at 2026-12-14T10:00:00Z) as the primary"));
    CHECK(contains(*role.refusal, "does not publish events or checksum as one"));
    CHECK(contains(*role.refusal, "bring it back as a secondary of paris"));
    // Its own name on a standby is no primary either.
    role = resolve_role(london, {database(2, true), primary(1, "london"), std::nullopt});
    REQUIRE(role.refusal);
    CHECK(contains(*role.refusal, "is a standby"));
}

TEST_CASE("site_role::a secondary is the primary only once its own promotion is finished and its database names it") {
    Config paris = config_of(Role::secondary, "paris");
    SUBCASE("never promoted: the config decides") {
        SiteRole role = resolve_role(paris, {std::nullopt, std::nullopt, std::nullopt});
        CHECK(role.role == Role::secondary);
        CHECK(role.source == RoleSource::config);
        CHECK_FALSE(role.refusal);
    }
    SUBCASE("a promotion not finished stops every command") {
        SiteRole role = resolve_role(paris, {std::nullopt, std::nullopt, promotion(1, false)});
        REQUIRE(role.refusal);
        CHECK(contains(*role.refusal, "is not finished (last step done: states): run geo-ssf promote again"));
    }
    SUBCASE("promoted") {
        SiteRole role = resolve_role(paris, {database(2, false), primary(1, "paris", "london"), promotion(1, true)});
        CHECK(role.role == Role::primary);
        CHECK(role.source == RoleSource::database);
        CHECK_FALSE(role.refusal);
        CHECK(contains(role.description, "the config sets this site up as a secondary"));
    }
    SUBCASE("promoted, then another site was promoted after it") {
        SiteRole role = resolve_role(paris, {database(3, true), primary(2, "london", "paris"), promotion(1, true)});
        CHECK(role.role == Role::secondary);
        CHECK_FALSE(role.refusal);
        CHECK(contains(role.description, "until london (generation 2"));
    }
    SUBCASE("promoted, but databases.main is another database") {
        SiteRole role = resolve_role(paris, {database(1, false), std::nullopt, promotion(1, true)});
        REQUIRE(role.refusal);
        CHECK(contains(*role.refusal, "is not the database this site was promoted on"));
    }
}

}  // TEST_SUITE
