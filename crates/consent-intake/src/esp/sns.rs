//! Amazon SNS's HTTP(S) deliveries and their message signature: the
//! canonical string SNS documents ("Verifying the signatures of Amazon SNS
//! messages": `Key\nValue\n` for each signed key in byte order, `Subject`
//! only when present), signed with RSA PKCS#1 v1.5 over SHA-1
//! (`SignatureVersion` 1) or SHA-256 (2), verified against the signing
//! certificate the operator configures. The `SigningCertURL` in the
//! message is never fetched: a message naming any URL verifies only under
//! the configured certificate.

use super::{EspError, KeyError};
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

/// An SNS message as delivered to an HTTP(S) endpoint (the JSON body).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    /// `Notification`, `SubscriptionConfirmation` or
    /// `UnsubscribeConfirmation`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub message_id: String,
    #[serde(default)]
    pub token: Option<String>,
    pub topic_arn: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL", default)]
    pub signing_cert_url: Option<String>,
    #[serde(rename = "SubscribeURL", default)]
    pub subscribe_url: Option<String>,
    #[serde(rename = "UnsubscribeURL", default)]
    pub unsubscribe_url: Option<String>,
}

impl SnsMessage {
    /// Reads the delivery's JSON body.
    pub fn parse(body: &[u8]) -> Result<Self, EspError> {
        serde_json::from_slice(body).map_err(|error| {
            EspError::payload("body", format!("not an SNS message (JSON with Type, MessageId, TopicArn, Message, Timestamp, SignatureVersion, Signature): {error}"))
        })
    }

    /// The string SNS signs for this message's type.
    pub fn canonical_string(&self) -> Result<String, EspError> {
        let mut text = String::new();
        let mut add = |key: &str, value: &str| {
            text.push_str(key);
            text.push('\n');
            text.push_str(value);
            text.push('\n');
        };
        let required = |value: &Option<String>, key: &str| {
            value.clone().ok_or_else(|| {
                EspError::payload(key, format!("required in a {} message", self.kind))
            })
        };
        match self.kind.as_str() {
            "Notification" => {
                add("Message", &self.message);
                add("MessageId", &self.message_id);
                if let Some(subject) = &self.subject {
                    add("Subject", subject);
                }
                add("Timestamp", &self.timestamp);
                add("TopicArn", &self.topic_arn);
                add("Type", &self.kind);
            }
            "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
                let subscribe_url = required(&self.subscribe_url, "SubscribeURL")?;
                let token = required(&self.token, "Token")?;
                add("Message", &self.message);
                add("MessageId", &self.message_id);
                add("SubscribeURL", &subscribe_url);
                add("Timestamp", &self.timestamp);
                add("Token", &token);
                add("TopicArn", &self.topic_arn);
                add("Type", &self.kind);
            }
            other => {
                return Err(EspError::payload(
                    "Type",
                    format!("`{other}` is not an SNS message type (Notification, SubscriptionConfirmation, UnsubscribeConfirmation)"),
                ))
            }
        }
        Ok(text)
    }
}

/// The SNS signing certificate an operator configured (PEM), and its RSA
/// key.
#[derive(Clone, Debug)]
pub struct SnsCertificate {
    key: RsaPublicKey,
    subject: String,
}

impl SnsCertificate {
    /// Reads a PEM certificate (as SNS serves it at its `SigningCertURL`)
    /// with an RSA key.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let certificate = Certificate::from_pem(pem.trim().as_bytes()).map_err(|error| {
            KeyError(format!(
                "the SNS signing certificate is not a PEM X.509 certificate: {error}"
            ))
        })?;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|error| KeyError(format!("the SNS signing certificate's key: {error}")))?;
        let key = RsaPublicKey::from_public_key_der(&spki).map_err(|error| {
            KeyError(format!(
                "the SNS signing certificate's key is not an RSA key: {error}"
            ))
        })?;
        Ok(Self {
            key,
            subject: certificate.tbs_certificate.subject.to_string(),
        })
    }

    /// The certificate's subject, for the logs.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Verifies `message`'s signature under this certificate.
    pub fn verify(&self, message: &SnsMessage) -> Result<(), EspError> {
        let bad = |reason: String| EspError::BadSignature {
            field: "Signature",
            what: "the SNS message signature",
            reason,
        };
        let canonical = message.canonical_string()?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(message.signature.trim().as_bytes())
            .map_err(|_| bad("not base64".to_owned()))?;
        let signature = Signature::try_from(signature.as_slice())
            .map_err(|_| bad("not an RSA signature".to_owned()))?;
        let verified = match message.signature_version.as_str() {
            "1" => VerifyingKey::<sha1::Sha1>::new(self.key.clone())
                .verify(canonical.as_bytes(), &signature),
            "2" => VerifyingKey::<sha2::Sha256>::new(self.key.clone())
                .verify(canonical.as_bytes(), &signature),
            other => {
                return Err(bad(format!(
                    "SignatureVersion `{other}` is not 1 (SHA1withRSA) or 2 (SHA256withRSA)"
                )))
            }
        };
        verified.map_err(|_| {
            bad(
                "not signed by the configured SNS signing certificate's key over this message"
                    .to_owned(),
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    /// A certificate and key made for these tests with `openssl req -x509
    /// -newkey rsa:2048` (not Amazon's: SNS's signing key is Amazon's own,
    /// so its documented samples carry signatures no test can make).
    pub(crate) const CERTIFICATE: &str = include_str!("../../tests/data/sns-test-signing.pem");
    const PRIVATE_KEY: &str = include_str!("../../tests/data/sns-test-signing.key");

    /// Signs `message` as SNS does, under the test key.
    pub(crate) fn sign(message: &mut SnsMessage) {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY).expect("the test key");
        let canonical = message.canonical_string().expect("canonical");
        let signature = match message.signature_version.as_str() {
            "1" => SigningKey::<sha1::Sha1>::new(key)
                .sign(canonical.as_bytes())
                .to_vec(),
            _ => SigningKey::<sha2::Sha256>::new(key)
                .sign(canonical.as_bytes())
                .to_vec(),
        };
        message.signature = base64::engine::general_purpose::STANDARD.encode(signature);
    }

    /// SNS's documented example of an HTTP notification (the Amazon SNS
    /// developer guide, "HTTP/HTTPS notification JSON format"), re-signed
    /// with the test key.
    pub(crate) fn documented_notification(message: &str, version: &str) -> SnsMessage {
        let mut sns = SnsMessage {
            kind: "Notification".to_owned(),
            message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324".to_owned(),
            token: None,
            topic_arn: "arn:aws:sns:us-west-2:123456789012:MyTopic".to_owned(),
            subject: Some("My First Message".to_owned()),
            message: message.to_owned(),
            timestamp: "2012-05-02T00:54:06.655Z".to_owned(),
            signature_version: version.to_owned(),
            signature: String::new(),
            signing_cert_url: Some("https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem".to_owned()),
            subscribe_url: None,
            unsubscribe_url: Some("https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96".to_owned()),
        };
        sign(&mut sns);
        sns
    }

    #[test]
    fn the_canonical_string_is_the_documented_one() {
        let message = documented_notification("Hello world!", "1");
        assert_eq!(
            message.canonical_string().expect("canonical"),
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
        );
        let mut without_subject = message.clone();
        without_subject.subject = None;
        assert!(!without_subject
            .canonical_string()
            .expect("canonical")
            .contains("Subject"));
    }

    #[test]
    fn both_signature_versions_verify_under_the_configured_certificate_only() {
        let certificate = SnsCertificate::from_pem(CERTIFICATE).expect("the test certificate");
        for version in ["1", "2"] {
            let message = documented_notification("Hello world!", version);
            certificate.verify(&message).expect("verifies");
            let mut altered = message.clone();
            altered.message = "Hello world?".to_owned();
            let error = certificate.verify(&altered).expect_err("altered");
            assert_eq!(error.field(), "Signature");
            assert!(error.is_authentication());
            let mut other_version = message.clone();
            other_version.signature_version = if version == "1" { "2" } else { "1" }.to_owned();
            assert!(certificate.verify(&other_version).is_err());
        }
        let mut unknown = documented_notification("Hello world!", "1");
        unknown.signature_version = "3".to_owned();
        assert!(certificate
            .verify(&unknown)
            .unwrap_err()
            .to_string()
            .contains("SignatureVersion"));
    }

    #[test]
    fn amazons_documented_example_signature_does_not_verify_under_another_certificate() {
        // The developer guide's example as printed: its `EXAMPLE...`
        // signature is not a signature under the configured certificate.
        let body = br#"{
          "Type" : "Notification",
          "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
          "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
          "Subject" : "My First Message",
          "Message" : "Hello world!",
          "Timestamp" : "2012-05-02T00:54:06.655Z",
          "SignatureVersion" : "1",
          "Signature" : "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
          "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
          "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"
        }"#;
        let message = SnsMessage::parse(body).expect("the documented example parses");
        assert_eq!(message, {
            let mut ours = documented_notification("Hello world!", "1");
            ours.signature = message.signature.clone();
            ours
        });
        let certificate = SnsCertificate::from_pem(CERTIFICATE).expect("certificate");
        assert!(certificate.verify(&message).is_err());
    }

    #[test]
    fn a_certificate_that_is_not_pem_is_refused() {
        assert!(SnsCertificate::from_pem("not a certificate").is_err());
        let certificate = SnsCertificate::from_pem(CERTIFICATE).expect("certificate");
        assert!(
            certificate.subject().contains("sns.test.invalid"),
            "{}",
            certificate.subject()
        );
    }
}
