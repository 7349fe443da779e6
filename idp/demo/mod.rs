//! `idp demo` (in progress).
pub async fn run(_data_dir: Option<std::path::PathBuf>, _listen: &str) -> anyhow::Result<()> { anyhow::bail!("todo") }
pub fn routes() -> axum::Router<crate::state::AppState> { axum::Router::new() }
