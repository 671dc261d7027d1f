#include "common/error.hpp"
#include "site/names.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace geo_ssf;

TEST_SUITE("names") {

TEST_CASE("names::derive_schema_names refuses SQL reserved words and geo-ssf's own tables") {
    CHECK(is_reserved_sql_word("user"));
    CHECK(is_reserved_sql_word("as"));
    CHECK_FALSE(is_reserved_sql_word("users"));
    CHECK_THROWS_WITH_AS(derive_schema_names(derive_names("Order")), doctest::Contains("\"order\" is an SQL reserved word"),
                         UsageError);
    CHECK_THROWS_WITH_AS(derive_schema_names(derive_names("User")), doctest::Contains("reserved word"), UsageError);
    CHECK_THROWS_WITH_AS(derive_schema_names(derive_names("Widget", std::string_view("select"))),
                         doctest::Contains("the plural \"select\""), UsageError);
    CHECK_THROWS_WITH_AS(derive_schema_names(derive_names("Widget"), std::string_view("as")),
                         doctest::Contains("--model-table \"as\": it is an SQL reserved word"), UsageError);
    for (const char* own : {"geo_events", "geo_ssf_tallies", "geo_ssf_cursors", "geo_ssf_ref_differences",
                            "geo_ssf_schema_migrations", "event_log_states"}) {
        CAPTURE(own);
        CHECK_THROWS_WITH_AS(derive_schema_names(derive_names("Widget"), std::string_view(own)),
                             doctest::Contains("one of geo-ssf's own tables"), UsageError);
    }
    CHECK(derive_schema_names(derive_names("Widget")).model_table == "widgets");
}

TEST_CASE("names::derive_names gives the six seed placeholders from every form of NAME") {
    for (const char* form : {"CoolWidget", "cool_widget", "Cool Widget", "coolWidget", "cool widget"}) {
        CAPTURE(form);
        Names n = derive_names(form);
        CHECK(n.title_plural == "Cool Widgets");
        CHECK(n.title == "Cool Widget");
        CHECK(n.plural == "cool_widgets");
        CHECK(n.singular == "cool_widget");
        CHECK(n.class_name == "CoolWidget");
        CHECK(n.camel == "coolWidget");
    }
}

TEST_CASE("names::derive_names pluralizes only the last word, irregular words included") {
    Names n = derive_names("SalesPerson");
    CHECK(n.title_plural == "Sales People");
    CHECK(n.title == "Sales Person");
    CHECK(n.plural == "sales_people");
    CHECK(n.singular == "sales_person");
    CHECK(n.class_name == "SalesPerson");
    CHECK(n.camel == "salesPerson");

    Names repo = derive_names("DesignManagementRepository");
    CHECK(repo.plural == "design_management_repositories");
    CHECK(repo.title_plural == "Design Management Repositories");
}

TEST_CASE("names::derive_names takes --plural in any form") {
    Names n = derive_names("Cactus", std::string_view("Cacti"));
    CHECK(n.plural == "cacti");
    CHECK(n.title_plural == "Cacti");
    Names m = derive_names("CoolWidget", std::string_view("cool_widgetry"));
    CHECK(m.plural == "cool_widgetry");
    CHECK(m.title_plural == "Cool Widgetry");
    CHECK_THROWS_AS(derive_names("CoolWidget", std::string_view("bad-plural")), UsageError);
}

TEST_CASE("names::split_name_words splits acronyms and keeps digits") {
    CHECK(split_name_words("LFSObject") == std::vector<std::string>{"lfs", "object"});
    CHECK(split_name_words("Widget2Part") == std::vector<std::string>{"widget2", "part"});
    CHECK(split_name_words("  cool__widget ") == std::vector<std::string>{"cool", "widget"});
}

TEST_CASE("names::pluralize_word follows the English rules") {
    const std::pair<const char*, const char*> cases[] = {
        {"widget", "widgets"},   {"repository", "repositories"}, {"box", "boxes"},
        {"status", "statuses"},  {"person", "people"},           {"child", "children"},
        {"man", "men"},          {"sheep", "sheep"},             {"equipment", "equipment"},
        {"index", "indices"},    {"matrix", "matrices"},         {"wolf", "wolves"},
        {"knife", "knives"},     {"analysis", "analyses"},       {"bus", "buses"},
        {"tomato", "tomatoes"},  {"quiz", "quizzes"},            {"mouse", "mice"},
        {"ox", "oxen"},          {"day", "days"},                {"branch", "branches"},
        {"wish", "wishes"},      {"class", "classes"},           {"datum", "data"},
        {"octopus", "octopi"},   {"axis", "axes"},               {"hive", "hives"},
        {"alias", "aliases"},    {"wiki", "wikis"},              {"diff", "diffs"},
        {"query", "queries"},    {"registry", "registries"},     {"news", "news"},
    };
    for (auto [singular, plural] : cases) {
        CAPTURE(singular);
        CHECK(pluralize_word(singular) == plural);
    }
}

TEST_CASE("names::split_name_words rejects what is not an identifier") {
    CHECK_THROWS_WITH_AS(split_name_words("Widget; DROP TABLE x"),
                         doctest::Contains("';' is not allowed"), UsageError);
    CHECK_THROWS_WITH_AS(split_name_words(""), doctest::Contains("NAME is empty"), UsageError);
    CHECK_THROWS_WITH_AS(split_name_words("   "), doctest::Contains("NAME is empty"), UsageError);
    CHECK_THROWS_WITH_AS(split_name_words("2Widgets"), doctest::Contains("must start with a letter"), UsageError);
    CHECK_THROWS_AS(split_name_words("Cool-Widget"), UsageError);
    CHECK_THROWS_AS(split_name_words("Widget\"x"), UsageError);
    CHECK_THROWS_AS(split_name_words("Wídget"), UsageError);
    CHECK_THROWS_AS(split_name_words("Widget\n"), UsageError);
}

TEST_CASE("names::is_sql_identifier") {
    CHECK(is_sql_identifier("cool_widgets"));
    CHECK(is_sql_identifier("_x1"));
    CHECK_FALSE(is_sql_identifier(""));
    CHECK_FALSE(is_sql_identifier("CoolWidgets"));
    CHECK_FALSE(is_sql_identifier("1abc"));
    CHECK_FALSE(is_sql_identifier("a b"));
    CHECK_FALSE(is_sql_identifier("x;drop"));
    CHECK(is_sql_identifier(std::string(63, 'a')));
    CHECK_FALSE(is_sql_identifier(std::string(64, 'a')));
}

TEST_CASE("names::constraint names match GitLab's") {
    // Values from GitLab's ee/db/geo/structure.sql and db/structure.sql.
    CHECK(text_limit_constraint_name("project_repository_registry", "last_sync_failure") == "check_45b82eebee");
    CHECK(text_limit_constraint_name("project_repository_registry", "verification_failure") == "check_58aa799387");
    CHECK(text_limit_constraint_name("snippet_repository_states", "verification_failure") == "check_0dabaefb7f");
    CHECK(foreign_key_constraint_name("cool_widget_states", "cool_widget_id").rfind("fk_rails_", 0) == 0);
    CHECK(foreign_key_constraint_name("cool_widget_states", "cool_widget_id").size() == 19);
}

TEST_CASE("names::fit_identifier keeps short names and shortens long ones without collisions") {
    CHECK(fit_identifier("index_cool_widget_registry_on_cool_widget_id") == "index_cool_widget_registry_on_cool_widget_id");
    std::string a = "index_design_management_repository_registry_on_design_management_repository_id";
    std::string b = "index_design_management_repository_registry_on_design_management_repository_xx";
    CHECK(fit_identifier(a).size() <= 63);
    CHECK(fit_identifier(a) == fit_identifier(a));  // deterministic
    CHECK(fit_identifier(a) != fit_identifier(b));  // same 54-byte prefix, different names
    CHECK(fit_identifier(a).rfind(a.substr(0, 40), 0) == 0);
    CHECK(fit_identifier(std::string(63, 'x')) == std::string(63, 'x'));
    CHECK(fit_identifier(std::string(64, 'x')).size() == 63);
}

TEST_CASE("names::derive_schema_names uses the seed's names") {
    SchemaNames s = derive_schema_names(derive_names("CoolWidget"));
    CHECK(s.model_table == "cool_widgets");
    CHECK(s.registry_table == "cool_widget_registry");
    CHECK(s.states_table == "cool_widget_states");
    CHECK(s.foreign_key == "cool_widget_id");
    CHECK(s.registry_foreign_key_index == "index_cool_widget_registry_on_cool_widget_id");
    CHECK(s.registry_failed_verification_index == "cool_widget_registry_failed_verification");
    CHECK(s.registry_needs_verification_index == "cool_widget_registry_needs_verification");
    CHECK(s.registry_pending_verification_index == "cool_widget_registry_pending_verification");
    CHECK(s.states_pending_verification_index == "index_cool_widget_states_pending_verification");
    CHECK(s.states_failed_verification_index == "index_cool_widget_states_failed_verification");
    CHECK(s.states_needs_verification_index == "index_cool_widget_states_needs_verification");
    CHECK(s.states_verification_state_index == "index_cool_widget_states_on_verification_state");
    CHECK(s.states_foreign_key_index == "index_cool_widget_states_on_cool_widget_id");
}

TEST_CASE("names::derive_schema_names fits long names into 63 bytes, all different") {
    SchemaNames s = derive_schema_names(derive_names("DesignManagementRepository"));
    std::set<std::string> seen;
    for (const auto& identifier : s.all()) {
        CAPTURE(identifier);
        CHECK(identifier.size() <= 63);
        CHECK(seen.insert(identifier).second);
    }
    CHECK(s.registry_table == "design_management_repository_registry");
}

TEST_CASE("names::derive_schema_names refuses table names PostgreSQL would cut") {
    std::string long_name(50, 'a');  // a..a_registry is 59 bytes, fine; a..a_states fine
    CHECK_NOTHROW(derive_schema_names(derive_names(long_name)));
    std::string too_long(56, 'a');  // 56 + "_registry" = 65 bytes
    CHECK_THROWS_WITH_AS(derive_schema_names(derive_names(too_long)), doctest::Contains("PostgreSQL keeps only 63"),
                         UsageError);
    CHECK_THROWS_AS(derive_schema_names(derive_names("CoolWidget"), std::string_view("Bad Table")), UsageError);
    CHECK_THROWS_AS(derive_schema_names(derive_names("CoolWidget"), std::string_view("cool_widget_registry")), UsageError);
}

}
