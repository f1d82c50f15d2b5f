//! Every operation of AWS's apigatewayv2 API by method and path (from botocore's service
//! model, `apigatewayv2/2018-11-29/service-2.json`), so that a call Portico does not
//! implement is told so by name instead of getting a NotFoundException for its path.

/// (method, AWS's request URI, operation name), in URI order.
const OPERATIONS: [(&str, &str, &str); 98] = [
    ("GET", "/v2/apis", "GetApis"),
    ("POST", "/v2/apis", "CreateApi"),
    ("PUT", "/v2/apis", "ImportApi"),
    ("DELETE", "/v2/apis/{apiId}", "DeleteApi"),
    ("GET", "/v2/apis/{apiId}", "GetApi"),
    ("PATCH", "/v2/apis/{apiId}", "UpdateApi"),
    ("PUT", "/v2/apis/{apiId}", "ReimportApi"),
    ("GET", "/v2/apis/{apiId}/authorizers", "GetAuthorizers"),
    ("POST", "/v2/apis/{apiId}/authorizers", "CreateAuthorizer"),
    (
        "DELETE",
        "/v2/apis/{apiId}/authorizers/{authorizerId}",
        "DeleteAuthorizer",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/authorizers/{authorizerId}",
        "GetAuthorizer",
    ),
    (
        "PATCH",
        "/v2/apis/{apiId}/authorizers/{authorizerId}",
        "UpdateAuthorizer",
    ),
    ("DELETE", "/v2/apis/{apiId}/cors", "DeleteCorsConfiguration"),
    ("GET", "/v2/apis/{apiId}/deployments", "GetDeployments"),
    ("POST", "/v2/apis/{apiId}/deployments", "CreateDeployment"),
    (
        "DELETE",
        "/v2/apis/{apiId}/deployments/{deploymentId}",
        "DeleteDeployment",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/deployments/{deploymentId}",
        "GetDeployment",
    ),
    (
        "PATCH",
        "/v2/apis/{apiId}/deployments/{deploymentId}",
        "UpdateDeployment",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/exports/{specification}",
        "ExportApi",
    ),
    ("GET", "/v2/apis/{apiId}/integrations", "GetIntegrations"),
    ("POST", "/v2/apis/{apiId}/integrations", "CreateIntegration"),
    (
        "DELETE",
        "/v2/apis/{apiId}/integrations/{integrationId}",
        "DeleteIntegration",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/integrations/{integrationId}",
        "GetIntegration",
    ),
    (
        "PATCH",
        "/v2/apis/{apiId}/integrations/{integrationId}",
        "UpdateIntegration",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses",
        "GetIntegrationResponses",
    ),
    (
        "POST",
        "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses",
        "CreateIntegrationResponse",
    ),
    (
        "DELETE",
        "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
        "DeleteIntegrationResponse",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
        "GetIntegrationResponse",
    ),
    (
        "PATCH",
        "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
        "UpdateIntegrationResponse",
    ),
    ("GET", "/v2/apis/{apiId}/models", "GetModels"),
    ("POST", "/v2/apis/{apiId}/models", "CreateModel"),
    ("DELETE", "/v2/apis/{apiId}/models/{modelId}", "DeleteModel"),
    ("GET", "/v2/apis/{apiId}/models/{modelId}", "GetModel"),
    ("PATCH", "/v2/apis/{apiId}/models/{modelId}", "UpdateModel"),
    (
        "GET",
        "/v2/apis/{apiId}/models/{modelId}/template",
        "GetModelTemplate",
    ),
    ("GET", "/v2/apis/{apiId}/routes", "GetRoutes"),
    ("POST", "/v2/apis/{apiId}/routes", "CreateRoute"),
    ("DELETE", "/v2/apis/{apiId}/routes/{routeId}", "DeleteRoute"),
    ("GET", "/v2/apis/{apiId}/routes/{routeId}", "GetRoute"),
    ("PATCH", "/v2/apis/{apiId}/routes/{routeId}", "UpdateRoute"),
    (
        "DELETE",
        "/v2/apis/{apiId}/routes/{routeId}/requestparameters/{requestParameterKey}",
        "DeleteRouteRequestParameter",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/routes/{routeId}/routeresponses",
        "GetRouteResponses",
    ),
    (
        "POST",
        "/v2/apis/{apiId}/routes/{routeId}/routeresponses",
        "CreateRouteResponse",
    ),
    (
        "DELETE",
        "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
        "DeleteRouteResponse",
    ),
    (
        "GET",
        "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
        "GetRouteResponse",
    ),
    (
        "PATCH",
        "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
        "UpdateRouteResponse",
    ),
    ("GET", "/v2/apis/{apiId}/stages", "GetStages"),
    ("POST", "/v2/apis/{apiId}/stages", "CreateStage"),
    (
        "DELETE",
        "/v2/apis/{apiId}/stages/{stageName}",
        "DeleteStage",
    ),
    ("GET", "/v2/apis/{apiId}/stages/{stageName}", "GetStage"),
    (
        "PATCH",
        "/v2/apis/{apiId}/stages/{stageName}",
        "UpdateStage",
    ),
    (
        "DELETE",
        "/v2/apis/{apiId}/stages/{stageName}/accesslogsettings",
        "DeleteAccessLogSettings",
    ),
    (
        "DELETE",
        "/v2/apis/{apiId}/stages/{stageName}/cache/authorizers",
        "ResetAuthorizersCache",
    ),
    (
        "DELETE",
        "/v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}",
        "DeleteRouteSettings",
    ),
    ("GET", "/v2/domainnames", "GetDomainNames"),
    ("POST", "/v2/domainnames", "CreateDomainName"),
    ("DELETE", "/v2/domainnames/{domainName}", "DeleteDomainName"),
    ("GET", "/v2/domainnames/{domainName}", "GetDomainName"),
    ("PATCH", "/v2/domainnames/{domainName}", "UpdateDomainName"),
    (
        "GET",
        "/v2/domainnames/{domainName}/apimappings",
        "GetApiMappings",
    ),
    (
        "POST",
        "/v2/domainnames/{domainName}/apimappings",
        "CreateApiMapping",
    ),
    (
        "DELETE",
        "/v2/domainnames/{domainName}/apimappings/{apiMappingId}",
        "DeleteApiMapping",
    ),
    (
        "GET",
        "/v2/domainnames/{domainName}/apimappings/{apiMappingId}",
        "GetApiMapping",
    ),
    (
        "PATCH",
        "/v2/domainnames/{domainName}/apimappings/{apiMappingId}",
        "UpdateApiMapping",
    ),
    (
        "GET",
        "/v2/domainnames/{domainName}/routingrules",
        "ListRoutingRules",
    ),
    (
        "POST",
        "/v2/domainnames/{domainName}/routingrules",
        "CreateRoutingRule",
    ),
    (
        "DELETE",
        "/v2/domainnames/{domainName}/routingrules/{routingRuleId}",
        "DeleteRoutingRule",
    ),
    (
        "GET",
        "/v2/domainnames/{domainName}/routingrules/{routingRuleId}",
        "GetRoutingRule",
    ),
    (
        "PUT",
        "/v2/domainnames/{domainName}/routingrules/{routingRuleId}",
        "PutRoutingRule",
    ),
    ("GET", "/v2/portalproducts", "ListPortalProducts"),
    ("POST", "/v2/portalproducts", "CreatePortalProduct"),
    (
        "DELETE",
        "/v2/portalproducts/{portalProductId}",
        "DeletePortalProduct",
    ),
    (
        "GET",
        "/v2/portalproducts/{portalProductId}",
        "GetPortalProduct",
    ),
    (
        "PATCH",
        "/v2/portalproducts/{portalProductId}",
        "UpdatePortalProduct",
    ),
    (
        "GET",
        "/v2/portalproducts/{portalProductId}/productpages",
        "ListProductPages",
    ),
    (
        "POST",
        "/v2/portalproducts/{portalProductId}/productpages",
        "CreateProductPage",
    ),
    (
        "DELETE",
        "/v2/portalproducts/{portalProductId}/productpages/{productPageId}",
        "DeleteProductPage",
    ),
    (
        "GET",
        "/v2/portalproducts/{portalProductId}/productpages/{productPageId}",
        "GetProductPage",
    ),
    (
        "PATCH",
        "/v2/portalproducts/{portalProductId}/productpages/{productPageId}",
        "UpdateProductPage",
    ),
    (
        "GET",
        "/v2/portalproducts/{portalProductId}/productrestendpointpages",
        "ListProductRestEndpointPages",
    ),
    (
        "POST",
        "/v2/portalproducts/{portalProductId}/productrestendpointpages",
        "CreateProductRestEndpointPage",
    ),
    (
        "DELETE",
        "/v2/portalproducts/{portalProductId}/productrestendpointpages/{productRestEndpointPageId}",
        "DeleteProductRestEndpointPage",
    ),
    (
        "GET",
        "/v2/portalproducts/{portalProductId}/productrestendpointpages/{productRestEndpointPageId}",
        "GetProductRestEndpointPage",
    ),
    (
        "PATCH",
        "/v2/portalproducts/{portalProductId}/productrestendpointpages/{productRestEndpointPageId}",
        "UpdateProductRestEndpointPage",
    ),
    (
        "DELETE",
        "/v2/portalproducts/{portalProductId}/sharingpolicy",
        "DeletePortalProductSharingPolicy",
    ),
    (
        "GET",
        "/v2/portalproducts/{portalProductId}/sharingpolicy",
        "GetPortalProductSharingPolicy",
    ),
    (
        "PUT",
        "/v2/portalproducts/{portalProductId}/sharingpolicy",
        "PutPortalProductSharingPolicy",
    ),
    ("GET", "/v2/portals", "ListPortals"),
    ("POST", "/v2/portals", "CreatePortal"),
    ("DELETE", "/v2/portals/{portalId}", "DeletePortal"),
    ("GET", "/v2/portals/{portalId}", "GetPortal"),
    ("PATCH", "/v2/portals/{portalId}", "UpdatePortal"),
    ("POST", "/v2/portals/{portalId}/preview", "PreviewPortal"),
    ("DELETE", "/v2/portals/{portalId}/publish", "DisablePortal"),
    ("POST", "/v2/portals/{portalId}/publish", "PublishPortal"),
    ("DELETE", "/v2/tags/{resource-arn}", "UntagResource"),
    ("GET", "/v2/tags/{resource-arn}", "GetTags"),
    ("POST", "/v2/tags/{resource-arn}", "TagResource"),
];

/// The operation `method path` is a call of, if it is one of AWS's.
pub fn operation_named(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    OPERATIONS
        .iter()
        .find(|(m, uri, _)| {
            *m == method && {
                let template: Vec<&str> = uri.split('/').collect();
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            }
        })
        .map(|(_, _, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_named_by_method_and_path() {
        assert_eq!(
            operation_named("POST", "/v2/apis/a1/models"),
            Some("CreateModel")
        );
        assert_eq!(
            operation_named("GET", "/v2/apis/a1/models"),
            Some("GetModels")
        );
        assert_eq!(
            operation_named("DELETE", "/v2/apis/a1/stages/dev/cache/authorizers"),
            Some("ResetAuthorizersCache")
        );
        assert_eq!(operation_named("GET", "/v2/apis/a1/nothing"), None);
        // Portico has these: they are routed, never named as missing.
        assert_eq!(operation_named("GET", "/v2/vpclinks"), None);
        assert_eq!(operation_named("PUT", "/v2/vpclinks"), None);
    }
}
