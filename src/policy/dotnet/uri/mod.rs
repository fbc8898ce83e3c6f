//! `System.Uri`, `UriBuilder`, `Uri.EscapeDataString`/`UnescapeDataString`,
//! `WebUtility` and `HttpUtility` encoders.

mod escape;
#[allow(clippy::module_inception)]
mod uri;

#[cfg(test)]
mod tests;

pub use escape::{
    escape_data_string, escape_uri_string, html_decode, html_encode, http_url_encode, parse_query_string, query_get,
    unescape_data_string, url_decode, web_url_encode,
};
pub use uri::{default_port, Uri, UriBuilder, UriKind, UriPartial};
