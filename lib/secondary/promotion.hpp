// Whether a secondary can be made the primary without losing anything: the preflight of a
// promotion (`check --promotion`), exact rather than by percentages. Every record in scope on the
// primary's database must have a copy here that is synced and verified with the primary's
// checksum; every event must be replayed; the main database, when it is a standby, must have
// replayed all it received, replay not paused; a scope (selective sync) leaves the records
// outside it behind, and each is named. Read-only, on a secondary, at any time.
#pragma once

#include "db/promotion.hpp"
#include "site/site.hpp"

#include <functional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

// One line of the preflight.
struct PreflightCheck {
    std::string name;  // "events replayed"
    bool passed = false;
    std::string detail;
};

// One type's records, compared.
struct TypeComparison {
    std::string replicable;
    long long records = 0;   // in scope on the primary
    long long verified = 0;  // with a copy verified with the primary's checksum, or nothing to lose
    std::vector<LostRecord> lost;  // by id; with those outside the scope
};

struct PromotionCheck {
    std::vector<PreflightCheck> checks;
    std::vector<TypeComparison> types;
    bool passed() const;
};

// The preflight of promoting SITE, a secondary whose databases are migrated; each check is
// reported through REPORT as soon as it is known.
PromotionCheck check_promotion(Site& site, const std::function<void(const PreflightCheck&)>& report);

}  // namespace geo_ssf::secondary
