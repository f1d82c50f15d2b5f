//! Tags and the ARNs that name what carries them (`TagResource`, `UntagResource`,
//! `GetTags`, and `Tags` on every create), by AWS's rules: "Tagging your API Gateway
//! resources" and "API Gateway resources that can be tagged" in the developer guide.
use std::collections::BTreeMap;

use crate::ValidationError;

/// Tags one resource may carry.
pub const MAX_TAGS: usize = 50;
const MAX_KEY_LEN: usize = 128;
const MAX_VALUE_LEN: usize = 256;

/// Letters and digits in any script, white space, and `+ - = . _ : / @`.
fn allowed(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c)
}

pub fn validate_tag_key(key: &str) -> Result<(), ValidationError> {
    let bad = |why: &str| ValidationError::new("tags", format!("Invalid tag key '{key}': {why}"));
    if key.is_empty() || key.chars().count() > MAX_KEY_LEN {
        return Err(bad("use 1 to 128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(bad("the aws: prefix is reserved for AWS"));
    }
    if !key.chars().all(allowed) {
        return Err(bad("use letters, digits, spaces and + - = . _ : / @"));
    }
    Ok(())
}

pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    if tags.len() > MAX_TAGS {
        return Err(ValidationError::new(
            "tags",
            format!("A resource has at most {MAX_TAGS} tags, got {}", tags.len()),
        ));
    }
    for (key, value) in tags {
        validate_tag_key(key)?;
        if value.chars().count() > MAX_VALUE_LEN || !value.chars().all(allowed) {
            return Err(ValidationError::new(
                "tags",
                format!(
                    "Invalid value for tag '{key}': at most {MAX_VALUE_LEN} letters, digits, spaces and + - = . _ : / @"
                ),
            ));
        }
    }
    Ok(())
}

/// What a tag ARN (`arn:aws:apigateway:REGION::/apis/ID`, …) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaggedResource {
    Api { api_id: String },
    Stage { api_id: String, stage_name: String },
    DomainName { domain_name: String },
    VpcLink { vpc_link_id: String },
}

impl TaggedResource {
    pub fn parse_arn(arn: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| {
            ValidationError::new(
                "resourceArn",
                format!(
                    "Invalid resource ARN '{arn}': {why}. Use arn:aws:apigateway:REGION::/apis/API_ID, \
                     arn:aws:apigateway:REGION::/apis/API_ID/stages/STAGE, \
                     arn:aws:apigateway:REGION::/domainnames/DOMAIN_NAME or \
                     arn:aws:apigateway:REGION::/vpclinks/VPC_LINK_ID"
                ),
            )
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", partition, "apigateway", region, "", resource] = parts.as_slice() else {
            return Err(bad("it is not an API Gateway ARN"));
        };
        if !matches!(*partition, "aws" | "aws-cn" | "aws-us-gov") {
            return Err(bad("unknown partition"));
        }
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad("the region is missing or malformed"));
        }
        let segments: Vec<&str> = resource.split('/').collect();
        let nonempty = |s: &&str| !s.is_empty();
        match segments.as_slice() {
            ["", "apis", id] if nonempty(id) => Ok(TaggedResource::Api {
                api_id: id.to_string(),
            }),
            ["", "apis", id, "stages", stage] if nonempty(id) && nonempty(stage) => {
                Ok(TaggedResource::Stage {
                    api_id: id.to_string(),
                    stage_name: stage.to_string(),
                })
            }
            ["", "domainnames", name] if nonempty(name) => Ok(TaggedResource::DomainName {
                domain_name: name.to_string(),
            }),
            ["", "vpclinks", id] if nonempty(id) => Ok(TaggedResource::VpcLink {
                vpc_link_id: id.to_string(),
            }),
            _ => Err(bad("it names no resource that carries tags")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_apis_stages_domains_and_vpc_links() {
        assert_eq!(
            TaggedResource::parse_arn("arn:aws:apigateway:us-east-1::/apis/a1b2c3").unwrap(),
            TaggedResource::Api {
                api_id: "a1b2c3".into()
            }
        );
        assert_eq!(
            TaggedResource::parse_arn("arn:aws:apigateway:eu-west-1::/apis/a1/stages/$default")
                .unwrap(),
            TaggedResource::Stage {
                api_id: "a1".into(),
                stage_name: "$default".into()
            }
        );
        assert_eq!(
            TaggedResource::parse_arn("arn:aws:apigateway:us-east-1::/domainnames/api.example.com")
                .unwrap(),
            TaggedResource::DomainName {
                domain_name: "api.example.com".into()
            }
        );
        assert_eq!(
            TaggedResource::parse_arn("arn:aws:apigateway:us-east-1::/vpclinks/abc123").unwrap(),
            TaggedResource::VpcLink {
                vpc_link_id: "abc123".into()
            }
        );
        for bad in [
            "arn:aws:apigateway:us-east-1::/vpclinks/",
            "arn:aws:apigateway:us-east-1::/restapis/a1",
            "arn:aws:lambda:us-east-1::/apis/a1",
            "arn:aws:apigateway:::/apis/a1",
            "arn:aws:apigateway:us-east-1::/apis/",
            "apis/a1",
        ] {
            let e = TaggedResource::parse_arn(bad).unwrap_err();
            assert_eq!(e.field, "resourceArn", "{bad}");
        }
    }

    #[test]
    fn tag_rules() {
        let mut tags = BTreeMap::from([("team".to_string(), "payments".to_string())]);
        validate_tags(&tags).unwrap();
        tags.insert("aws:owner".into(), "x".into());
        assert!(validate_tags(&tags).is_err());
        let many: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate_tags(&many).is_err());
        assert!(validate_tag_key("a{b}").is_err());
    }
}
