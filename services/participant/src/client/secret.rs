//! `participant secret`: print a new signing secret for `Callbacks__SigningSecrets`.

use shared::signing::SigningSecret;

pub fn run() -> anyhow::Result<()> {
    let secret = SigningSecret::generate()
        .map_err(|e| anyhow::anyhow!("no randomness for a secret: {e}"))?;
    println!("{}", secret.expose());
    Ok(())
}
