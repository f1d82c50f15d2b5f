use leptos::prelude::*;

/// A read-only copy of `text` with a button that puts it on the clipboard. The
/// asynchronous clipboard exists only on secure origins (https, localhost); elsewhere the
/// text is selected and copied with the older `execCommand`, and if that fails too it
/// stays selected for Ctrl+C.
#[component]
pub fn CopyButton(#[prop(into)] text: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let value = text.clone();
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&value);
            if let Some(input) = input.get() {
                input.select();
            }
            copied.set(true);
            set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&value, input);
    };
    view! {
        <span class="copy">
            <input
                class="copy-text"
                type="text"
                readonly=true
                value=text
                node_ref=input
                aria-label=label
            />
            <button type="button" class="secondary" on:click=on_click aria-label=format!("Copy {label}")>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </span>
    }
}
