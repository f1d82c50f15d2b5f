//! A form's last failure from the admin API, split between the field it names (shown
//! beside that field) and everything else (shown above the form).
use leptos::prelude::*;

use crate::client::ApiFailure;

#[derive(Clone, Copy)]
pub struct FormErrors {
    failure: RwSignal<Option<ApiFailure>>,
    /// The API fields this form has inputs for.
    fields: &'static [&'static str],
}

impl FormErrors {
    pub fn new(fields: &'static [&'static str]) -> Self {
        FormErrors {
            failure: RwSignal::new(None),
            fields,
        }
    }

    pub fn set(&self, failure: ApiFailure) {
        self.failure.set(Some(failure));
    }

    pub fn clear(&self) {
        self.failure.set(None);
    }

    /// The message about `field`, in the API's words.
    pub fn field(&self, field: &'static str) -> Signal<Option<String>> {
        let failure = self.failure;
        Signal::derive(move || {
            failure.with(|f| {
                f.as_ref()
                    .filter(|f| f.field.as_deref() == Some(field))
                    .map(|f| f.message.clone())
            })
        })
    }

    /// A failure no input of this form can show.
    pub fn general(&self) -> Signal<Option<ApiFailure>> {
        let (failure, fields) = (self.failure, self.fields);
        Signal::derive(move || {
            failure.get().filter(|f| {
                f.field
                    .as_deref()
                    .is_none_or(|field| !fields.contains(&field))
            })
        })
    }
}
