//! `cargo run -p intaj-dev --bin intaj-connect`: adds a business's WhatsApp connection to a
//! deployed stack (its table and Secrets Manager), with the caller's own AWS credentials, until
//! the connections API exists. Everything comes from the environment, so that no secret shows
//! in the process list or the shell history:
//!
//! `TABLE_NAME`, `SECRET_PREFIX` (as the functions use them), `BOT_ID`, `PHONE_NUMBER_ID`,
//! `WABA_ID`, `ACCESS_TOKEN`, `APP_SECRET`, `VERIFY_TOKEN`, and optionally `API_KEY` (made up when
//! absent, and then printed once) and `RATE_LIMIT_PER_SECOND` (default 80). With an endpoint
//! override (`AWS_ENDPOINT_URL_DYNAMODB`, i.e. DynamoDB Local) it creates the table if missing.

use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::bootstrap;
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::{
    DEFAULT_RATE_LIMIT_PER_SECOND, NewConnection, connect, generate_api_key,
};
use intaj_shared::ports::Secret;

#[tokio::main]
async fn main() {
    let config = bootstrap::config_or_exit();
    let (new, generated_key) = from_env().unwrap_or_else(|problem| {
        eprintln!("configuration error: {problem}");
        std::process::exit(2)
    });
    let aws = bootstrap::aws_config().await;
    // Against DynamoDB Local (an endpoint override) there is no SAM stack to own the table.
    let local = ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if local {
        let client = aws_sdk_dynamodb::Client::new(&aws);
        if let Err(error) = create_table_if_missing(&client, &config.table_name).await {
            eprintln!("the local table could not be created: {error}");
            std::process::exit(1)
        }
    }
    let store = bootstrap::dynamodb_store(&aws, &config);
    let secrets = bootstrap::secret_store(&aws, &config);
    if let Err(error) = connect(store.as_ref(), secrets.as_ref(), &new, unix_now()).await {
        eprintln!("the connection was not added: {error}");
        std::process::exit(1)
    }
    println!(
        "Connected bot {} (phone number id {}).",
        new.bot_id, new.phone_number_id
    );
    println!(
        "Webhook URL: the stack's WebhookUrlPattern output with {{botId}} = {}; verify token: the VERIFY_TOKEN you gave.",
        new.bot_id
    );
    if generated_key {
        println!(
            "API key (shown once, only its hash is stored): {}",
            new.api_key.expose()
        );
    }
}

fn from_env() -> Result<(NewConnection, bool), String> {
    let required = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("{name} is required"))
    };
    let (api_key, generated) = match std::env::var("API_KEY") {
        Ok(key) if !key.trim().is_empty() => (Secret::new(key), false),
        _ => (generate_api_key(), true),
    };
    let rate_limit_per_second = match std::env::var("RATE_LIMIT_PER_SECOND") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("RATE_LIMIT_PER_SECOND={value} is not a whole number"))?,
        Err(_) => DEFAULT_RATE_LIMIT_PER_SECOND,
    };
    let new = NewConnection {
        bot_id: required("BOT_ID")?,
        business_account_id: required("WABA_ID")?,
        phone_number_id: required("PHONE_NUMBER_ID")?,
        access_token: Secret::new(required("ACCESS_TOKEN")?),
        app_secret: Secret::new(required("APP_SECRET")?),
        verify_token: Secret::new(required("VERIFY_TOKEN")?),
        api_key,
        rate_limit_per_second,
    };
    Ok((new, generated))
}
