// GET /api/openapi.json: an OpenAPI 3.0 document made from the route table that serves
// the requests (Router::routes), so every route served is listed and nothing else. Per
// route: its summary, its {name} path parameters, and the shared error shape. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/router.h"

namespace uc::api {

nlohmann::json openapi_document(const Router& router);

// A route pattern as an OpenAPI path: "{name...}" (router.h) becomes "{name}".
std::string openapi_path(std::string pattern);

}  // namespace uc::api
