"Bitrix24 bridge: mirrors the portal to the firm's Bitrix24 CRM"
