#include "secondary/promote.hpp"

#include "common/error.hpp"
#include "common/paths.hpp"
#include "db/event_log.hpp"
#include "db/site_identity.hpp"
#include "repo/storage.hpp"
#include "site/database.hpp"
#include "site/migrations.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace geo_ssf::secondary {

namespace {

constexpr int k_promote_batch = 10000;
constexpr long long k_promote_before_every_id = std::numeric_limits<long long>::min();

// The steps a promotion records as done, in order (promote.hpp).
const std::vector<std::string> k_promotion_steps = {"begun", "compared", "states", "event_log", "primary", "finished"};

bool step_reached(const std::optional<PromotionRecord>& promotion, const std::string& step) {
    if (!promotion)
        return false;
    auto done = std::find(k_promotion_steps.begin(), k_promotion_steps.end(), promotion->step);
    auto asked = std::find(k_promotion_steps.begin(), k_promotion_steps.end(), step);
    return done != k_promotion_steps.end() && done >= asked;
}

std::filesystem::path default_report_file(const Config& config, int generation, bool create) {
    std::filesystem::path folder = config.home_storage().root / ".geo-ssf-promotions";
    if (create)
        folder = own_folder(folder, true);
    return folder / ("generation-" + std::to_string(generation) + ".json");
}

// The states rows of the lost records of GENERATION: reset, or with DRY_RUN counted.
long long reset_lost_states(Site& site, int generation, const std::vector<LostRecord>& planned, bool dry_run) {
    long long changed = 0;
    for (const auto& r : site.config().replicables)
        for (long long after = k_promote_before_every_id;;) {
            std::vector<long long> ids;
            if (dry_run) {
                for (const auto& record : planned)
                    if (record.replicable == r.name && record.id > after && ids.size() < static_cast<size_t>(k_promote_batch))
                        ids.push_back(record.id);
            } else {
                pqxx::read_transaction tx(site.geo_database());
                ids = lost_record_ids(tx, generation, r, after, k_promote_batch);
            }
            if (ids.empty())
                break;
            if (dry_run) {
                pqxx::read_transaction tx(site.main_database());
                changed += states_rows_to_reset(tx, r, ids);
            } else {
                pqxx::work tx(site.main_database());
                changed += reset_states_rows(tx, r, ids);
                tx.commit();
            }
            after = ids.back();
        }
    return changed;
}

void record_promote_step(Site& site, int generation, const std::string& step) {
    pqxx::work tx(site.geo_database());
    record_promotion_step(tx, generation, step);
    tx.commit();
}

}  // namespace

std::vector<LostRecord> lost_records_of(const PromotionCheck& check) {
    std::vector<LostRecord> out;
    for (const auto& type : check.types)
        out.insert(out.end(), type.lost.begin(), type.lost.end());
    std::sort(out.begin(), out.end(), [](const LostRecord& a, const LostRecord& b) {
        return std::tie(a.replicable, a.id) < std::tie(b.replicable, b.id);
    });
    return out;
}

PromotionResult promote(Site& site, const PromoteOptions& options,
                        const std::function<void(const PreflightCheck&)>& checked,
                        const std::function<void(const std::string&)>& step) {
    PromotionResult result;
    const Config& config = site.config();
    site.require_migrated(DatabaseKind::geo);
    pqxx::connection& geo = site.geo_database();
    PromotionLock lock(geo);
    if (!lock.held())
        throw RuntimeError("another geo-ssf promote is running on this site");
    std::optional<PromotionRecord> promotion;
    {
        pqxx::read_transaction tx(geo);
        promotion = latest_promotion(tx);
    }
    pqxx::connection& main = site.main_database();
    bool in_recovery = false;
    std::optional<PrimaryRecord> current;
    {
        pqxx::read_transaction tx(main);
        in_recovery = replay_state(tx).in_recovery;
        current = current_primary(tx);
    }

    if (promotion && promotion->finished()) {
        if (current && current->generation == promotion->generation && current->site_name == config.site_name) {
            result.already_primary = true;
            result.primary = *current;
            result.accepted_data_loss = promotion->accepted_data_loss;
            result.report_file = promotion->report_file;
            pqxx::read_transaction tx(geo);
            result.lost = lost_records(tx, promotion->generation);
            return result;
        }
        if (!current || current->generation < promotion->generation)
            throw ConfigError("this site was promoted to the primary (generation " +
                              std::to_string(promotion->generation) + " at " + promotion->finished_at +
                              "), but its main database names " +
                              (current ? describe_primary(*current) : std::string("no promoted primary")) +
                              ": databases.main is not the database this site was promoted on");
        promotion.reset();  // another site has been the primary since: this is a promotion of its own
    }
    if (in_recovery && !options.dry_run)
        throw ConfigError("the main database (databases.main) is still a standby, in recovery: promote it first, "
                          "with pg_ctl promote -D <its data folder> on its host, SELECT pg_promote() as a superuser, "
                          "or your failover tool; then run geo-ssf promote again");
    if (in_recovery)
        step("the main database is still a standby, in recovery: promote refuses until it is promoted "
             "(pg_ctl promote, SELECT pg_promote())");

    // The main database is this site's from now on: as on any primary, it gets the migrations.
    auto migrations = discover_migrations(DatabaseKind::main, builtin_migrations_dir(), config.migrations_dir);
    if (options.dry_run) {
        for (const auto& m : pending_migrations(main, migrations))
            step("would apply main " + m.version + "_" + m.name);
    } else {
        allow_writes(main);
        apply_pending_migrations(main, migrations,
                                 [&](const Migration& m) { step("migrations: applied main " + m.version + "_" + m.name); });
    }

    int generation = 0;
    if (promotion) {
        result.resumed = true;
        generation = promotion->generation;
        result.primary.promoted_from = promotion->from_site;
        result.accepted_data_loss = promotion->accepted_data_loss;
        step("resuming the promotion begun at " + promotion->started_at + " (last step done: " + promotion->step + ")");
    } else {
        result.check = check_promotion(site, checked);
        if (!result.check->passed() && !options.accept_data_loss) {
            result.refused = true;
            return result;
        }
        generation = current ? current->generation + 1 : 1;
        result.primary.promoted_from = current ? current->site_name : "";
        result.accepted_data_loss = options.accept_data_loss;
        const std::string what = "the promotion of " + config.site_name + " to the primary (generation " +
                                 std::to_string(generation) +
                                 (result.primary.promoted_from.empty() ? "" : ", after " + result.primary.promoted_from) +
                                 ")";
        if (options.dry_run) {
            step("would record " + what);
        } else {
            pqxx::work tx(geo);
            record_promotion_start(tx, generation, result.primary.promoted_from, options.accept_data_loss);
            tx.commit();
            step("begun: recorded " + what);
        }
    }
    result.primary.generation = generation;
    result.primary.site_name = config.site_name;

    if (step_reached(promotion, "compared")) {
        pqxx::read_transaction tx(geo);
        result.lost = lost_records(tx, generation);
    } else {
        result.lost = lost_records_of(result.check ? *result.check
                                                   : check_promotion(site, [](const PreflightCheck&) {}));
        const std::string what = std::to_string(result.lost.size()) +
                                 " records whose copies are not verified equal to the old primary's (the data-loss "
                                 "report)";
        if (options.dry_run) {
            step("would record " + what);
        } else {
            // One transaction: the report is whole, or not there and compared again.
            pqxx::work tx(geo);
            for (size_t at = 0; at < result.lost.size(); at += k_promote_batch)
                add_lost_records(tx, generation,
                                 std::vector<LostRecord>(result.lost.begin() + static_cast<long>(at),
                                                         result.lost.begin() +
                                                             static_cast<long>(std::min(at + k_promote_batch, result.lost.size()))));
            record_promotion_step(tx, generation, "compared");
            tx.commit();
            step("compared: recorded " + what);
        }
    }

    if (!step_reached(promotion, "states")) {
        long long changed = reset_lost_states(site, generation, result.lost, options.dry_run);
        const std::string what = "the states rows of " + std::to_string(changed) +
                                 " records to pending, without the old primary's checksum; the others keep theirs";
        if (options.dry_run) {
            step("would set " + what);
        } else {
            record_promote_step(site, generation, "states");
            step("states: set " + what);
        }
    }

    long long last_event = promotion && promotion->last_event_id ? *promotion->last_event_id : 0;
    if (!step_reached(promotion, "event_log")) {
        if (options.dry_run) {
            pqxx::read_transaction tx(main);
            last_event = newest_event_id(tx);
            step("would set the event log's sequence to its newest event, " + std::to_string(last_event));
        } else {
            {
                pqxx::work tx(main);
                last_event = settle_event_log(tx);
                tx.commit();
            }
            pqxx::work tx(geo);
            record_promotion_last_event(tx, generation, last_event);
            record_promotion_step(tx, generation, "event_log");
            tx.commit();
            step("event_log: the next event follows the newest, " + std::to_string(last_event));
        }
    }
    result.primary.last_event_id = last_event;

    if (!step_reached(promotion, "primary")) {
        const std::string what = config.site_name + " as the primary in the main database (generation " +
                                 std::to_string(generation) +
                                 (result.primary.promoted_from.empty() ? ""
                                                                       : ", promoted from " + result.primary.promoted_from) +
                                 ")";
        if (options.dry_run) {
            step("would record " + what);
        } else {
            pqxx::work tx(main);
            DatabaseIdentity now_identity = database_identity(tx);
            result.primary.system_identifier = now_identity.system_identifier;
            result.primary.timeline = now_identity.timeline;
            record_promoted_primary(tx, result.primary);
            std::optional<PrimaryRecord> now = current_primary(tx);
            if (!now || now->generation != generation || now->site_name != config.site_name)
                throw ConfigError("the main database names " +
                                  (now ? describe_primary(*now) : std::string("no promoted primary")) +
                                  " as the primary: another site was promoted on it meanwhile");
            tx.commit();
            record_promote_step(site, generation, "primary");
            step("primary: recorded " + what);
        }
    }

    result.report_file = !options.report_file.empty() ? options.report_file
                                                      : default_report_file(config, generation, !options.dry_run);
    if (options.dry_run) {
        step("would write the data-loss report, " + std::to_string(result.lost.size()) + " records, to " +
             result.report_file.string() + ", and keep the tracking database aside");
        return result;
    }
    {
        pqxx::read_transaction tx(main);
        if (auto now = current_primary(tx))
            result.primary = *now;
    }
    if (options.write_report)
        options.write_report(result);
    pqxx::work tx(geo);
    record_promotion_finished(tx, generation, result.report_file.string());
    tx.commit();
    step("finished: the data-loss report, " + std::to_string(result.lost.size()) + " records, is in " +
         result.report_file.string() + "; the tracking database is kept aside, no longer used");
    return result;
}

}  // namespace geo_ssf::secondary
