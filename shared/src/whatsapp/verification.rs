//! Meta's webhook verification handshake (`GET` with `hub.mode`, `hub.verify_token`,
//! `hub.challenge`).

use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    #[error("hub.mode, hub.verify_token and hub.challenge are all required")]
    MissingParameter,
    #[error("hub.mode must be \"subscribe\"")]
    WrongMode,
    #[error("hub.verify_token does not match this bot's verify token")]
    WrongToken,
}

/// The three query parameters Meta sends, as found in the request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Handshake<'a> {
    pub mode: Option<&'a str>,
    pub verify_token: Option<&'a str>,
    pub challenge: Option<&'a str>,
}

/// Returns the challenge to echo when the handshake is valid for `expected_token`.
pub fn answer<'a>(
    handshake: Handshake<'a>,
    expected_token: &str,
) -> Result<&'a str, VerificationError> {
    let (Some(mode), Some(token), Some(challenge)) =
        (handshake.mode, handshake.verify_token, handshake.challenge)
    else {
        return Err(VerificationError::MissingParameter);
    };
    if mode != "subscribe" {
        return Err(VerificationError::WrongMode);
    }
    if bool::from(token.as_bytes().ct_eq(expected_token.as_bytes())) {
        Ok(challenge)
    } else {
        Err(VerificationError::WrongToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs<'a>(mode: Option<&'a str>, token: Option<&'a str>, ch: Option<&'a str>) -> Handshake<'a> {
        Handshake {
            mode,
            verify_token: token,
            challenge: ch,
        }
    }

    #[test]
    fn echoes_the_challenge_for_the_right_token() {
        assert_eq!(
            answer(hs(Some("subscribe"), Some("tok"), Some("123")), "tok"),
            Ok("123")
        );
    }

    #[test]
    fn refuses_everything_else() {
        use VerificationError::*;
        assert_eq!(
            answer(hs(Some("subscribe"), Some("bad"), Some("1")), "tok"),
            Err(WrongToken)
        );
        assert_eq!(
            answer(hs(Some("subscribe"), Some("to"), Some("1")), "tok"),
            Err(WrongToken)
        );
        assert_eq!(
            answer(hs(Some("unsubscribe"), Some("tok"), Some("1")), "tok"),
            Err(WrongMode)
        );
        assert_eq!(
            answer(hs(None, Some("tok"), Some("1")), "tok"),
            Err(MissingParameter)
        );
        assert_eq!(
            answer(hs(Some("subscribe"), None, Some("1")), "tok"),
            Err(MissingParameter)
        );
        assert_eq!(
            answer(hs(Some("subscribe"), Some("tok"), None), "tok"),
            Err(MissingParameter)
        );
    }
}
