#include "database.hpp"

#include "error.hpp"

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
