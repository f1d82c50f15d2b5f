use leptos::prelude::*;
use portico_model::{ARN_REGION, Api};
use serde_json::json;

use super::CurrentApi;
use crate::client::{ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::text_field::TextField;

/// The tag ARN of an API, as AWS's tagging operations name it.
pub(crate) fn api_arn(api_id: &str) -> String {
    format!("arn:aws:apigateway:{ARN_REGION}::/apis/{api_id}")
}

/// `/v2/tags/{resource-arn}`: the ARN is one path segment, its `:` and `/` encoded.
pub(crate) fn tags_path(arn: &str) -> String {
    format!("/v2/tags/{}", segment(arn))
}

/// An API's tags (TagResource, UntagResource): the list, each with Remove, and a form
/// that adds one or gives a key a new value.
#[component]
pub fn ApiTags(api: Api) -> impl IntoView {
    let CurrentApi { reload, .. } = expect_context::<CurrentApi>();
    let path = tags_path(&api_arn(&api.api_id));
    let on_changed = Callback::new(move |()| reload.bump());
    let remove_failure = RwSignal::new(None::<ApiFailure>);
    let rows = api
        .tags
        .iter()
        .map(|(key, value)| {
            let untag = format!("{path}?tagKeys={}", segment(key));
            view! {
                <tr data-tag=key.clone()>
                    <td class="mono tag-key">{key.clone()}</td>
                    <td class="mono tag-value">{value.clone()}</td>
                    <td class="actions">
                        <DeleteButton path=untag label="Remove" on_deleted=on_changed failure=remove_failure/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let empty = api.tags.is_empty();
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let state = FormState::new(&["key", "value"]);
    let errors = state.errors;
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let k = key.get_untracked().trim().to_owned();
            if k.is_empty() {
                return errors.set(ApiFailure::invalid("key", "A tag needs a key"));
            }
            let body = json!({ "tags": { k: value.get_untracked() } });
            state.send(
                FormTarget::Create(path.clone()),
                body,
                move |_: serde_json::Value| {
                    key.set(String::new());
                    value.set(String::new());
                    reload.bump();
                },
            );
        }
    });
    view! {
        <ErrorBanner failure=remove_failure/>
        {empty.then(|| view! { <p class="empty">"No tags."</p> })}
        <div class="table-wrap" class:hidden=empty>
            <table class="tags">
                <thead>
                    <tr>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <ResourceForm class="tag-form" state submit_label="Add tag" on_submit>
            <TextField id="tag-key" label="Key" field="key" value=key errors required=true hint="A key already set gets the new value"/>
            <TextField id="tag-value" label="Value" field="value" value=value errors/>
        </ResourceForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_is_one_path_segment() {
        assert_eq!(
            tags_path(&api_arn("a1b2c3")),
            "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fa1b2c3"
        );
    }
}
