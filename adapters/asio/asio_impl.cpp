// The one translation unit that compiles Boost.Asio and Boost.Beast (separate compilation):
// every other file includes their headers with BOOST_*_SEPARATE_COMPILATION and skips the bodies.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
