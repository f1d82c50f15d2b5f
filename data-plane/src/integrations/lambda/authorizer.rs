//! What a Lambda authorizer answers, as AWS reads it
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html):
//! a simple response (`{"isAuthorized": bool, "context": {...}}`) when the authorizer has
//! `enableSimpleResponses`, else an IAM policy (`principalId`, `policyDocument`,
//! `context`) that must allow `execute-api:Invoke` on the route's ARN.
use serde::Deserialize;
use serde_json::{Map, Value};

/// The function's answer, kept whole so that a cached policy is evaluated afresh for
/// each route.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizerAnswer {
    Simple {
        authorized: bool,
        context: Map<String, Value>,
    },
    Policy {
        principal_id: Option<String>,
        statements: Vec<Statement>,
        context: Map<String, Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// Why an authorizer gave no answer; the client gets AWS's 500.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerFailure {
    #[error(transparent)]
    Invoke(#[from] super::InvokeError),
    #[error("no answer from the authorizer within {0:?}")]
    Timeout(std::time::Duration),
    #[error(transparent)]
    Answer(#[from] InvalidAnswer),
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidAnswer {
    #[error("the authorizer's output is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("the authorizer's output is not a {0}")]
    Shape(&'static str),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SimpleOutput {
    is_authorized: bool,
    #[serde(default)]
    context: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyOutput {
    #[serde(default)]
    principal_id: Option<Value>,
    policy_document: PolicyDocument,
    #[serde(default)]
    context: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct PolicyDocument {
    #[serde(rename = "Statement")]
    statement: OneOrMany<RawStatement>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "Effect")]
    effect: String,
    #[serde(rename = "Action")]
    action: OneOrMany<String>,
    #[serde(rename = "Resource")]
    resource: OneOrMany<String>,
}

/// IAM lets a statement, an action or a resource be one value or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

impl AuthorizerAnswer {
    pub fn read(output: &[u8], simple: bool) -> Result<Self, InvalidAnswer> {
        if simple {
            let out: SimpleOutput = serde_json::from_slice(output).map_err(|e| {
                if e.is_data() {
                    InvalidAnswer::Shape("simple response ({\"isAuthorized\": true|false})")
                } else {
                    InvalidAnswer::NotJson(e)
                }
            })?;
            return Ok(AuthorizerAnswer::Simple {
                authorized: out.is_authorized,
                context: out.context.unwrap_or_default(),
            });
        }
        let out: PolicyOutput = serde_json::from_slice(output).map_err(|e| {
            if e.is_data() {
                InvalidAnswer::Shape("policy response (principalId, policyDocument.Statement)")
            } else {
                InvalidAnswer::NotJson(e)
            }
        })?;
        let statements = out
            .policy_document
            .statement
            .into_vec()
            .into_iter()
            .map(|s| Statement {
                allow: s.effect.eq_ignore_ascii_case("allow"),
                actions: s.action.into_vec(),
                resources: s.resource.into_vec(),
            })
            .collect();
        Ok(AuthorizerAnswer::Policy {
            principal_id: out.principal_id.map(|p| match p {
                Value::String(s) => s,
                other => other.to_string(),
            }),
            statements,
            context: out.context.unwrap_or_default(),
        })
    }

    /// Whether the answer lets the request to `route_arn` through: a simple `true`, or a
    /// policy with an Allow on it and no Deny (an explicit Deny always wins, as in IAM).
    pub fn allows(&self, route_arn: &str) -> bool {
        match self {
            AuthorizerAnswer::Simple { authorized, .. } => *authorized,
            AuthorizerAnswer::Policy { statements, .. } => {
                let applies = |s: &Statement| {
                    s.actions.iter().any(|a| invoke_action(a))
                        && s.resources.iter().any(|r| glob(r, route_arn))
                };
                let mut allowed = false;
                for s in statements.iter().filter(|s| applies(s)) {
                    if !s.allow {
                        return false;
                    }
                    allowed = true;
                }
                allowed
            }
        }
    }

    pub fn context(&self) -> &Map<String, Value> {
        match self {
            AuthorizerAnswer::Simple { context, .. } | AuthorizerAnswer::Policy { context, .. } => {
                context
            }
        }
    }

    pub fn principal_id(&self) -> Option<&str> {
        match self {
            AuthorizerAnswer::Policy { principal_id, .. } => principal_id.as_deref(),
            AuthorizerAnswer::Simple { .. } => None,
        }
    }
}

/// `execute-api:Invoke` as IAM matches actions: case-insensitively, with wildcards.
fn invoke_action(action: &str) -> bool {
    glob(&action.to_ascii_lowercase(), "execute-api:invoke")
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/notes";

    fn policy(statements: Value) -> AuthorizerAnswer {
        let out = serde_json::json!({
            "principalId": "user-42",
            "policyDocument": {"Version": "2012-10-17", "Statement": statements},
            "context": {"plan": "pro"},
        });
        AuthorizerAnswer::read(out.to_string().as_bytes(), false).expect("policy")
    }

    #[test]
    fn simple_responses() {
        let yes = AuthorizerAnswer::read(br#"{"isAuthorized":true,"context":{"u":"a"}}"#, true)
            .expect("simple");
        assert!(yes.allows(ARN));
        assert_eq!(yes.context()["u"], "a");
        let no = AuthorizerAnswer::read(br#"{"isAuthorized":false}"#, true).expect("simple");
        assert!(!no.allows(ARN));
        assert!(AuthorizerAnswer::read(br#"{"authorized":true}"#, true).is_err());
        assert!(AuthorizerAnswer::read(b"not json", true).is_err());
    }

    #[test]
    fn policies_allow_the_route_and_deny_wins() {
        let allow = |resource: &str| serde_json::json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource});
        assert!(policy(serde_json::json!([allow(ARN)])).allows(ARN));
        let p = policy(serde_json::json!(allow(ARN)));
        assert_eq!(p.principal_id(), Some("user-42"));
        assert_eq!(p.context()["plan"], "pro");
        assert!(
            policy(serde_json::json!([allow(
                "arn:aws:execute-api:us-east-1:123456789012:abc123/*"
            )]))
            .allows(ARN)
        );
        assert!(
            policy(serde_json::json!([allow(
                "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/???/notes"
            )]))
            .allows(ARN)
        );
        assert!(
            !policy(serde_json::json!([allow(
                "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/DELETE/nowhere"
            )]))
            .allows(ARN)
        );
        let deny =
            serde_json::json!({"Effect": "Deny", "Action": ["execute-api:*"], "Resource": [ARN]});
        assert!(!policy(serde_json::json!([allow("*"), deny])).allows(ARN));
        let other_action =
            serde_json::json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"});
        assert!(!policy(serde_json::json!([other_action])).allows(ARN));
        assert!(AuthorizerAnswer::read(br#"{"principalId":"x"}"#, false).is_err());
    }

    #[test]
    fn glob_matches_as_iam_does() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*/GET/*", "x/GET/y/z"));
        assert!(!glob("abc", "abcd"));
    }
}
