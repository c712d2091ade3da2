-- A 16550 UART for a type = "sim" region with map uart16550.yaml (mmiod-model(5)).
--
-- The driver side: writing THR transmits a byte, reading THR (RBR) takes the oldest received
-- byte; LSR.DR says one is waiting, LSR.THRE and TEMT that the transmitter is idle, LSR.OE that
-- a byte arrived while the receive FIFO was full (read-clears); IIR names the highest pending
-- interrupt of those IER enables, and the region's interrupt is raised when one becomes pending.
--
-- The device side (the test harness, `mmioctl sim`): `sim set uart0 THR 0x41` makes a byte
-- arrive on the line; `sim get uart0 THR` takes the oldest byte the driver transmitted (0 when
-- none; `sim get uart0 SCR`... is raw as usual).

local FIFO_SIZE = 16
local rx, tx = {}, {}

local function pending()
  if device.get("IER.ELSI") == 1 and device.get("LSR.OE") == 1 then return 3 end -- RLS
  if device.get("IER.ERBFI") == 1 and #rx > 0 then return 2 end                  -- RDA
  if device.get("IER.ETBEI") == 1 and device.get("LSR.THRE") == 1 then return 1 end -- THRE
  return nil
end

-- Recomputes IIR and raises the interrupt when one becomes pending.
local function update()
  local was = device.get("IIR.NINT") == 0
  local id = pending()
  device.set("LSR.DR", #rx > 0 and 1 or 0)
  if id then
    device.set("IIR.IID", id)
    device.set("IIR.NINT", 0)
    if not was then device.irq() end
  else
    device.set("IIR.IID", 0)
    device.set("IIR.NINT", 1)
  end
end

function on_reset()
  rx, tx = {}, {}
end

function on_load(reg, value)
  if reg == "THR" then
    local byte = table.remove(rx, 1) or 0
    update()
    return byte
  end
  if reg == "LSR" then
    -- The access rules have cleared OE for the reader; IIR may no longer show RLS.
    device.after(0, update)
  end
  return nil
end

function on_store(reg, value, old)
  if reg == "THR" then
    table.insert(tx, value)
    -- The byte takes the line for a moment: THRE and TEMT drop until it has gone.
    device.set("LSR.THRE", 0)
    device.set("LSR.TEMT", 0)
    device.after(1, function()
      device.set("LSR.THRE", 1)
      device.set("LSR.TEMT", 1)
      update()
    end)
  end
  update()
end

-- The harness puts a byte on the line.
function on_device_set(reg, value)
  if reg ~= "THR" then return end
  if #rx >= FIFO_SIZE then
    device.set("LSR.OE", 1)
  else
    table.insert(rx, value & 0xff)
  end
  update()
end

-- The harness takes what the driver sent, oldest first.
function on_device_get(reg, value)
  if reg == "THR" then return table.remove(tx, 1) or 0 end
  return nil
end
