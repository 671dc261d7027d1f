#include "site/site_role.hpp"

#include <string>
#include <utility>

namespace geo_ssf {

namespace {

SiteRole refused_role(Role role, std::string why) {
    SiteRole out;
    out.role = role;
    out.source = RoleSource::database;
    out.description = why;
    out.refusal = std::move(why);
    return out;
}

SiteRole resolve_primary(const Config& config, const RoleEvidence& evidence) {
    SiteRole out;
    out.role = Role::primary;
    if (!evidence.primary) {
        out.description = "primary, as the config sets it up (the main database records no promotion)";
        return out;
    }
    const PrimaryRecord& primary = *evidence.primary;
    if (primary.site_name != config.site_name)
        return refused_role(Role::primary,
                            "this site (" + config.site_name + ") is set up as the primary, but its main database "
                            "names " + describe_primary(primary) + " as the primary: " + config.site_name +
                                " is no longer the primary and does not publish events or checksum as one; bring it "
                                "back as a secondary of " + primary.site_name);
    if (evidence.database && evidence.database->in_recovery)
        return refused_role(Role::primary, "this site (" + config.site_name + ") is the primary, but databases.main is "
                                           "a standby (in recovery): a primary writes to its own database");
    out.source = RoleSource::database;
    out.description = "primary, recorded in the main database: " + describe_primary(primary);
    return out;
}

SiteRole resolve_secondary(const Config& config, const RoleEvidence& evidence) {
    SiteRole out;
    out.role = Role::secondary;
    out.description = "secondary, as the config sets it up";
    if (!evidence.promotion)
        return out;
    const PromotionRecord& promotion = *evidence.promotion;
    const std::string generation = "generation " + std::to_string(promotion.generation);
    if (!promotion.finished())
        return refused_role(Role::secondary, "a promotion of this site (" + config.site_name + ") to the primary (" +
                                                 generation + ") began at " + promotion.started_at +
                                                 " and is not finished (last step done: " + promotion.step +
                                                 "): run geo-ssf promote again to finish it");
    const std::optional<PrimaryRecord>& primary = evidence.primary;
    if (primary && primary->generation == promotion.generation && primary->site_name == config.site_name) {
        if (evidence.database && evidence.database->in_recovery)
            return refused_role(Role::primary, "this site (" + config.site_name + ") was promoted to the primary (" +
                                                   generation + "), but databases.main is a standby (in recovery)");
        out.role = Role::primary;
        out.source = RoleSource::database;
        out.description = "primary, recorded in the main database: " + describe_primary(*primary) +
                          "; the config sets this site up as a secondary, its tracking database is kept aside";
        return out;
    }
    if (primary && primary->generation > promotion.generation) {
        out.description = "secondary, as the config sets it up; it was the primary from " + promotion.finished_at +
                          " (" + generation + ") until " + describe_primary(*primary);
        return out;
    }
    return refused_role(Role::primary, "this site (" + config.site_name + ") was promoted to the primary (" +
                                           generation + " at " + promotion.finished_at +
                                           "), but its main database names " +
                                           (primary ? describe_primary(*primary) : std::string("no promoted primary")) +
                                           ": databases.main is not the database this site was promoted on");
}

}  // namespace

SiteRole resolve_role(const Config& config, const RoleEvidence& evidence) {
    return config.role == Role::primary ? resolve_primary(config, evidence) : resolve_secondary(config, evidence);
}

std::string describe_primary(const PrimaryRecord& primary) {
    std::string text = primary.site_name + " (generation " + std::to_string(primary.generation);
    if (!primary.promoted_from.empty())
        text += ", promoted from " + primary.promoted_from;
    return text + " at " + primary.became_primary_at + ")";
}

std::string describe_followed_primary(const FollowedPrimary& primary) {
    std::string text = primary.generation == 0 ? std::string("the primary (no promotion recorded")
                                               : primary.site_name + " (generation " + std::to_string(primary.generation);
    return text + ", database " + primary.system_identifier + ", timeline " + std::to_string(primary.timeline) + ")";
}

}  // namespace geo_ssf
