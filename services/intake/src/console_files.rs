//! The operator's console: plain HTML, CSS and JavaScript modules in
//! `services/intake/console/`, embedded in the binary at build time, so the console needs
//! no build step, no CDN and no network. One page serves every view; its modules pick the
//! view from the address and speak to the API like any other client.

/// The page of every view (`/ui`, `/ui/operations/{id}`, `/ui/service`).
pub const PAGE: &str = include_str!("../console/index.html");

/// A file the page loads from `/ui/assets/{name}`.
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ASSETS: &[(&str, Asset)] = &[
    ("console.css", css(include_str!("../console/console.css"))),
    ("console.js", js(include_str!("../console/console.js"))),
    ("api.js", js(include_str!("../console/api.js"))),
    ("dom.js", js(include_str!("../console/dom.js"))),
    (
        "operations.js",
        js(include_str!("../console/operations.js")),
    ),
    ("operation.js", js(include_str!("../console/operation.js"))),
    (
        "item_errors.js",
        js(include_str!("../console/item_errors.js")),
    ),
    ("timeline.js", js(include_str!("../console/timeline.js"))),
    ("service.js", js(include_str!("../console/service.js"))),
];

const fn js(body: &'static str) -> Asset {
    Asset {
        content_type: JS,
        body,
    }
}

const fn css(body: &'static str) -> Asset {
    Asset {
        content_type: CSS,
        body,
    }
}

/// The file named `name`, if the console has one.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS
        .iter()
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, asset)| asset)
}

/// What the page may load and do: its own files and the API of its own origin, nothing
/// inline, never framed (its buttons cancel and compensate operations).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let sources = ASSETS.iter().map(|(_, a)| a.body).chain([PAGE]);
        for source in sources {
            for imported in source
                .split(['"', '\''])
                .filter_map(|s| s.strip_prefix("./").or(s.strip_prefix("/ui/assets/")))
            {
                assert!(asset(imported).is_some(), "{imported} is not served");
            }
        }
    }
}
