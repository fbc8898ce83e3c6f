//! The configuration document: model, loader, compiler (see ../shared/spec/config.md).
