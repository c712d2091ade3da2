-- A one-shot or periodic timer for a type = "sim" region with map timer.yaml (mmiod-model(5)).
local generation = 0 -- a stop or a new start makes older timers stale

local function finish(gen)
  return function()
    if gen ~= generation then return end
    device.set("STATUS.BUSY", 0)
    device.set("STATUS.DONE", 1)
    device.set("COUNT", (device.get("COUNT") + 1) & 0xffffffff)
    if device.get("CTRL.IRQEN") == 1 then device.irq() end
    if device.get("CTRL.MODE") == 1 then
      device.set("STATUS.BUSY", 1)
      device.after(device.get("LOAD"), finish(gen))
    end
  end
end

function on_store(reg, value, old)
  if reg ~= "CTRL" then return end
  if device.get("CTRL.START") == 1 then
    device.set("CTRL.START", 0) -- self-clearing
    generation = generation + 1
    device.set("STATUS.BUSY", 1)
    device.after(device.get("LOAD"), finish(generation))
  end
end

function on_reset()
  generation = generation + 1
end
