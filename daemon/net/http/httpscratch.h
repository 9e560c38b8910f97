#pragma once

#include "httphead.h"

#include <string>

namespace portico::http {

// Per-worker scratch space of the HTTP engine: a head is parsed, routed and rewritten
// synchronously, so one set of these per thread serves every connection, and their
// memory is reused from request to request (no allocation per request once grown).
struct HttpScratch {
    ParsedHead request;
    ParsedHead response;
    std::string head; // the head being built
};
HttpScratch &scratch();

} // namespace portico::http
