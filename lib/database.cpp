#include "database.hpp"

#include "error.hpp"

namespace geo_ssf {

std::string describe_database_error(const std::exception& e) {
    std::string message = first_line(e.what());
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
        throw DatabaseError("cannot connect to the " + std::string(label) + " database: " + first_line(e.what()));
    }
    return connection;
}

}  // namespace geo_ssf
