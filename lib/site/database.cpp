#include "site/database.hpp"

#include "common/error.hpp"

#include <limits>
#include <regex>

namespace geo_ssf {

std::string redact_passwords(const std::string& text) {
    static const std::regex uri_password("(://[^:/@\\s\"]*):[^@\\s\"]*@");
    static const std::regex keyword_password("(password\\s*=\\s*)('([^'\\\\]|\\\\.)*'|[^\\s]*)", std::regex::icase);
    std::string out = std::regex_replace(text, uri_password, "$1:***@");
    return std::regex_replace(out, keyword_password, "$1***");
}

std::string describe_database_error(const std::exception& e) {
    std::string message = redact_passwords(first_line(e.what()));
    if (message.rfind("ERROR:  ", 0) == 0)
        message = message.substr(8);
    return message;
}

DatabaseError database_error(const pqxx::failure& e) {
    if (dynamic_cast<const pqxx::broken_connection*>(&e))
        return DatabaseError("lost the connection to the database: " + describe_database_error(e));
    return DatabaseError("database query failed: " + describe_database_error(e));
}

long long update_in_batches(pqxx::connection& connection, const std::string& table, const std::string& key,
                            const std::string& set_assignments, const std::string& predicate, int batch,
                            const std::function<void(long long)>& progress) {
    long long done = 0;
    long long cursor = std::numeric_limits<long long>::min();
    while (true) {
        pqxx::work tx(connection);
        auto row = tx.exec_params1("WITH changed AS (UPDATE " + table + " SET " + set_assignments + " WHERE " + key +
                                       " IN (SELECT " + key + " FROM " + table + " WHERE " + key + " > $1 AND " +
                                       predicate + " ORDER BY " + key + " LIMIT $2 FOR UPDATE) RETURNING " + key +
                                       ") SELECT count(*), max(" + key + ") FROM changed",
                                   cursor, batch);
        tx.commit();
        long long changed = row[0].as<long long>();
        done += changed;
        progress(done);
        if (changed == 0 || row[1].is_null())
            break;  // a short batch may only mean rows changed under it: stop when none is left
        cursor = row[1].as<long long>();
    }
    return done;
}

std::unique_ptr<pqxx::connection> connect_database(const std::string& conninfo, std::string_view label,
                                                   Access access) {
    std::unique_ptr<pqxx::connection> connection;
    try {
        connection = std::make_unique<pqxx::connection>(conninfo);
        pqxx::nontransaction setup(*connection);
        setup.exec("SET application_name = 'geo-ssf'");
        if (access == Access::read_only)
            setup.exec("SET default_transaction_read_only = on");
    } catch (const pqxx::broken_connection& e) {
        throw DatabaseError("cannot connect to the " + std::string(label) + " database: " + describe_database_error(e));
    } catch (const pqxx::failure& e) {
        throw DatabaseError("cannot use the " + std::string(label) + " database: " + describe_database_error(e));
    } catch (const std::invalid_argument& e) {
        throw DatabaseError("cannot connect to the " + std::string(label) + " database: " + redact_passwords(first_line(e.what())));
    }
    return connection;
}

}  // namespace geo_ssf
