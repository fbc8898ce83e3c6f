//! What telemetry needs of the configuration: the names behind the indexes a [`super::Record`]
//! carries. Implemented by the snapshot; telemetry never sees compiled plans.

pub trait Names {
    fn api(&self, api: u32) -> Option<&str>;
    fn operation(&self, api: u32, operation: u32) -> Option<&str>;
    fn product(&self, product: u32) -> Option<&str>;
    fn subscription(&self, subscription: u32) -> Option<&str>;
    /// The API's subscription-key query parameter (masked in logged URLs).
    fn key_query(&self, api: u32) -> Option<&str>;
}
