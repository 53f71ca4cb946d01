//! Who the agent is: the one seam every `/agent` request passes through.
//! Today the identity comes from the link's `agent_id` and `agent_name`
//! parameters; verified sources (Cloudflare Access, signed links) replace
//! this function without touching the flows.

use crate::core::query::Params;
use crate::error::GatewayError;
use crate::upscope::models::Agent;

const MAX_ID_CHARS: usize = 128;
const MAX_NAME_CHARS: usize = 100;

pub fn identify_agent(params: &Params) -> Result<Agent, GatewayError> {
    let id = field(params, "agent_id", MAX_ID_CHARS)?;
    let name = field(params, "agent_name", MAX_NAME_CHARS)?;
    Ok(Agent { id, name })
}

fn field(params: &Params, name: &str, max_chars: usize) -> Result<String, GatewayError> {
    let value = params.require(name)?.trim();
    let ok = !value.is_empty() && value.chars().count() <= max_chars && !value.chars().any(char::is_control);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(GatewayError::bad_request(
            "invalid_parameter",
            format!("{name} must be 1 to {max_chars} characters, without control characters."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identify(q: &str) -> Result<Agent, GatewayError> {
        identify_agent(&Params::parse(Some(q)).unwrap())
    }

    #[test]
    fn reads_id_and_name() {
        let agent = identify("agent_id=a-7&agent_name=Ann%20Lee").unwrap();
        assert_eq!(agent, Agent { id: "a-7".into(), name: "Ann Lee".into() });
        assert_eq!(identify("agent_id=%E7%8E%8B&agent_name=%E7%8E%8B%E8%8A%B3").unwrap().name, "王芳");
    }

    #[test]
    fn missing_or_bad_fields_are_refused() {
        assert_eq!(identify("agent_name=Ann").unwrap_err().code(), "missing_parameter");
        assert!(identify("agent_id=a").unwrap_err().message().contains("agent_name"));
        for q in ["agent_id=&agent_name=Ann", "agent_id=a&agent_name=%20%20", "agent_id=a&agent_name=A%0D%0ALocation:x"]
        {
            assert_eq!(identify(q).unwrap_err().code(), "invalid_parameter", "{q}");
        }
        let long = format!("agent_id=a&agent_name={}", "n".repeat(101));
        assert_eq!(identify(&long).unwrap_err().code(), "invalid_parameter");
    }
}
