//! Building blocks shared by the pages: one component per file.
pub mod checkbox_field;
pub mod checkbox_group;
pub mod console_layout;
pub mod copy_button;
pub mod delete_button;
pub mod deployment_notice;
pub mod error_banner;
pub mod form_errors;
pub mod mapping_editor;
pub mod mapping_rows;
pub mod relative_time;
pub mod resource_form;
pub mod resource_table;
pub mod select_field;
pub mod text_area_field;
pub mod text_field;
pub mod top_bar;
